/**
 * Object buckets (JetStream Object Store, `@nats-io/obj`): the file server's store (DESIGN.md 2.3).
 * Writes go through the library (chunks, then the meta record). Reads use direct gets only
 * (`$JS.API.DIRECT.GET.OBJ_<bucket>...`): the meta record by last-by-subject, then each chunk by
 * next-by-subject, so a reader needs no consumer, no stream info and no write right. A consumer
 * would let an agent name any deliver subject, which the server then publishes to on its behalf.
 */
import { createHash } from "node:crypto";
import { StorageType } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { BusError, errorMessage } from "../core/index.js";
import type { Connection } from "./connection.js";

/** Bucket settings. */
export interface ObjectBucketSettings {
  readonly bucket: string;
  /** Default 1; 3 on a cluster. */
  readonly replicas?: number;
  /** Default file. */
  readonly storage?: "file" | "memory";
  /** Default -1 (no limit). */
  readonly maxBytes?: number;
}

/** Reads objects with direct gets only. */
export interface ObjectReader {
  readonly bucket: string;
  /** The object's bytes (digest checked), or undefined when there is none. */
  get(name: string): Promise<Uint8Array | undefined>;
}

/** Reads and writes objects. */
export interface ObjectBucket extends ObjectReader {
  put(name: string, data: Uint8Array): Promise<void>;
  /** Deletes the object (no error when there is none). */
  delete(name: string): Promise<void>;
}

/** The file server's buckets (DESIGN.md 2.3): objects `<saltenv>/<path>`, and the per-env index (KV). */
export const FILESERVER_BUCKET = "fileserver";
export const FILESERVER_INDEX_BUCKET = "fileserver-index";

/** The stream holding bucket `bucket`. */
export const objectStream = (bucket: string) => `OBJ_${bucket}`;

/** Opens a bucket, creating it when missing. */
export async function openObjectBucket(conn: Connection, s: ObjectBucketSettings): Promise<ObjectBucket> {
  let os: ObjectStore;
  try {
    os = await new Objm(conn.js).create(s.bucket, {
      replicas: s.replicas ?? 1,
      storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
      ...(s.maxBytes !== undefined ? { max_bytes: s.maxBytes } : {}),
    });
  } catch (err) {
    throw new BusError(`cannot open object bucket ${s.bucket}: ${errorMessage(err)}`, { cause: err });
  }
  const reader = bindObjectReader(conn, s.bucket);
  return {
    bucket: s.bucket,
    get: (name) => reader.get(name),
    async put(name, data) {
      try {
        await os.putBlob({ name }, data);
      } catch (err) {
        throw new BusError(`cannot put ${s.bucket}/${name}: ${errorMessage(err)}`, { cause: err });
      }
    },
    async delete(name) {
      try {
        if ((await os.info(name)) !== null) await os.delete(name);
      } catch (err) {
        throw new BusError(`cannot delete ${s.bucket}/${name}: ${errorMessage(err)}`, { cause: err });
      }
    },
  };
}

/** The meta record of an object (NATS ADR-20), as far as a reader needs it. */
interface ObjectMeta {
  readonly nuid: string;
  readonly size: number;
  readonly chunks: number;
  readonly digest: string;
  readonly deleted?: boolean;
  readonly options?: { readonly link?: unknown };
}

/** A reader of a bucket another process created (agents). */
export function bindObjectReader(conn: Connection, bucket: string): ObjectReader {
  const stream = objectStream(bucket);
  const direct = conn.jsm.direct;
  return {
    bucket,
    async get(name) {
      try {
        const m = await direct.getMessage(stream, { last_by_subj: `$O.${bucket}.M.${metaToken(name)}` });
        if (!m) return undefined;
        const meta = m.json<ObjectMeta>();
        if (meta.deleted || meta.options?.link) return undefined;
        const chunkSubj = `$O.${bucket}.C.${meta.nuid}`;
        const parts: Uint8Array[] = [];
        let size = 0;
        for (let seq = 1, i = 0; i < meta.chunks; i++) {
          const c = await direct.getMessage(stream, { seq, next_by_subj: chunkSubj });
          if (!c) break;
          parts.push(c.data);
          size += c.data.length;
          seq = c.seq + 1;
        }
        const data = Buffer.concat(parts);
        const digest = `SHA-256=${createHash("sha256").update(data).digest("base64url")}`;
        if (size !== meta.size || digest.replace(/=+$/, "") !== meta.digest.replace(/=+$/, ""))
          throw new Error(`object ${name} is incomplete or corrupt (changed while being read?)`);
        return new Uint8Array(data.buffer, data.byteOffset, data.length);
      } catch (err) {
        throw new BusError(`cannot get ${bucket}/${name}: ${errorMessage(err)}`, { cause: err });
      }
    },
  };
}

/** The meta subject token of an object name: base64url with padding, as @nats-io/obj writes it. */
function metaToken(name: string): string {
  const b = Buffer.from(name, "utf8").toString("base64url");
  return b + "=".repeat((4 - (b.length % 4)) % 4);
}
