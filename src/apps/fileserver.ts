/**
 * Wiring of the file server (DESIGN.md 11.4): the service syncs `file_roots` into the `fileserver`
 * Object Store bucket and the `fileserver-index` KV bucket; agents read them (direct gets only)
 * through a caching FileClient, or use their own `file_roots` with `file_client: local`.
 */
import { join } from "node:path";
import { bindKv, bindObjectReader, openKv, openObjectBucket, type Connection } from "../bus/index.js";
import type { AgentConfig } from "../config/index.js";
import type { FileClient, Logger } from "../core/index.js";
import {
  FILESERVER_BUCKET,
  FILESERVER_INDEX_BUCKET,
  startFileSync,
  storeFileClient,
  type FileSync,
  type IndexRecord,
} from "../fileserver/index.js";
import { localFileClient } from "../state/index.js";

/** The store's buckets, created when missing (the service). */
export async function openFileServerStore(
  conn: Connection,
  opts: { replicas: number; bucket?: string; indexBucket?: string },
) {
  const objects = await openObjectBucket(conn, {
    bucket: opts.bucket ?? FILESERVER_BUCKET,
    replicas: opts.replicas,
  });
  const index = await openKv<IndexRecord>(conn, {
    bucket: opts.indexBucket ?? FILESERVER_INDEX_BUCKET,
    history: 1,
    replicas: opts.replicas,
  });
  return { objects, index };
}

/** Starts syncing `roots` into the store (the service). */
export async function startFileServer(
  conn: Connection,
  opts: {
    roots: Readonly<Record<string, readonly string[]>>;
    replicas: number;
    log: Logger;
    pollMs?: number;
    bucket?: string;
    indexBucket?: string;
  },
): Promise<FileSync> {
  const { objects, index } = await openFileServerStore(conn, opts);
  return startFileSync({
    roots: opts.roots,
    objects,
    index,
    log: opts.log,
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
  });
}

/** The agent's FileClient: `file_roots` with `file_client: local`, else the store, cached under `<state_dir>/files`. */
export async function agentFileClient(
  conn: Connection,
  config: Pick<AgentConfig, "file_client" | "file_roots" | "state_dir">,
  opts: { bucket?: string; indexBucket?: string } = {},
): Promise<FileClient> {
  if (config.file_client === "local") return localFileClient(config.file_roots);
  return storeFileClient({
    objects: bindObjectReader(conn, opts.bucket ?? FILESERVER_BUCKET),
    index: await bindKv<IndexRecord>(conn, opts.indexBucket ?? FILESERVER_INDEX_BUCKET),
    cacheDir: join(config.state_dir, "files"),
  });
}
