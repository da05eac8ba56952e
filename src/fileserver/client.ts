/**
 * The agent's FileClient over the file server's store: `list`/`listDirs`/`hash` answer from the
 * environment's index; `cache` keeps a copy under `<cacheDir>/<saltenv>/<path>` and downloads the
 * object only when the copy's sha256 differs from the index's (so an unchanged file is fetched
 * once). The copy's digest is recorded with its size and mtime (in memory) and recomputed from
 * disk when either changed or on a fresh start, so an edited copy is never taken for the served one.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FileServerError, saltFileMissing, saltPath, saltUrlEnv, type FileClient } from "../core/index.js";
import {
  ENVS_KEY,
  envIndexKey,
  type EnvIndex,
  type IndexRecord,
  type ObjectPort,
  type RecordPort,
} from "./types.js";

/** Ports and place of the store-backed client. */
export interface StoreFileClientOptions {
  readonly objects: ObjectPort;
  readonly index: RecordPort<IndexRecord>;
  /** `<state_dir>/files`. */
  readonly cacheDir: string;
}

const ENV_RE = /^[A-Za-z0-9_-]+$/;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A FileClient reading the file server's store. */
export function storeFileClient(o: StoreFileClientOptions): FileClient {
  const envOf = (url: string, saltenv: string) => {
    const env = saltUrlEnv(url) ?? saltenv;
    if (!ENV_RE.test(env)) throw new FileServerError(`${url}: invalid saltenv ${JSON.stringify(env)}`);
    return env;
  };
  const envIndex = async (env: string): Promise<EnvIndex | undefined> => {
    const r = await o.index.get(envIndexKey(env));
    return r && !Array.isArray(r.value) ? (r.value as EnvIndex) : undefined;
  };
  const lookup = async (url: string, saltenv: string) => {
    const env = envOf(url, saltenv);
    const path = saltPath(url);
    const idx = await envIndex(env);
    const sha = idx && Object.hasOwn(idx.files, path) ? idx.files[path] : undefined;
    return { env, path, idx, sha };
  };
  const copies = new Map<string, { size: number; mtimeMs: number; sha: string }>();
  const record = async (local: string, sha: string) => {
    const st = await stat(local);
    copies.set(local, { size: st.size, mtimeMs: st.mtimeMs, sha });
  };
  /** The sha256 of the cached copy (undefined when there is none), hashed only when it changed. */
  const copyDigest = async (local: string): Promise<string | undefined> => {
    const st = await stat(local).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const k = copies.get(local);
    if (k && k.size === st.size && k.mtimeMs === st.mtimeMs) return k.sha;
    const data = await readFile(local).catch(() => undefined);
    if (!data) return undefined;
    const sha = sha256(data);
    copies.set(local, { size: st.size, mtimeMs: st.mtimeMs, sha });
    return sha;
  };
  const cache = async (url: string, saltenv: string): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      const { env, path, idx, sha } = await lookup(url, saltenv);
      if (sha === undefined) throw saltFileMissing(url, env, idx?.roots ?? []);
      const local = join(o.cacheDir, env, path);
      if ((await copyDigest(local)) === sha) return local;
      // The file may change (or go) between reading the index and the object, and an object being
      // replaced loses its old chunks mid-read: read the index again, up to three times in all.
      const data = await o.objects.get(`${env}/${path}`).catch((err: unknown) => {
        if (attempt < 2) return undefined;
        throw err;
      });
      if (!data || sha256(data) !== sha) {
        if (attempt < 2) continue;
        throw new FileServerError(
          `${url}: the file server's copy in saltenv ${JSON.stringify(env)} does not match its index (changing right now?)`,
        );
      }
      await mkdir(dirname(local), { recursive: true });
      const tmp = `${local}.part-${process.pid}`;
      await writeFile(tmp, data);
      await rename(tmp, local);
      await record(local, sha);
      return local;
    }
  };
  return {
    cache,
    async read(url, saltenv) {
      const { sha } = await lookup(url, saltenv);
      if (sha === undefined) return undefined;
      return readFile(await cache(url, saltenv), "utf8");
    },
    async hash(url, saltenv) {
      const { sha } = await lookup(url, saltenv);
      return sha === undefined ? undefined : { hash_type: "sha256", hsum: sha };
    },
    list: async (saltenv) => Object.keys((await envIndex(envOf("", saltenv)))?.files ?? {}).sort(),
    listDirs: async (saltenv) => [...((await envIndex(envOf("", saltenv)))?.dirs ?? [])],
    async envs() {
      const r = await o.index.get(ENVS_KEY);
      return Array.isArray(r?.value) ? [...(r.value as string[])].sort() : [];
    },
  };
}
