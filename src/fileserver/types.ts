/**
 * The file server's ports (DESIGN.md 11.4): the store of `salt://` files, seen as objects named
 * `<saltenv>/<path>` plus one index record per environment, so readers can list and compare
 * digests without reading objects. apps/ wires them to an Object Store bucket and a KV bucket.
 */

/** The index of one environment. */
export interface EnvIndex {
  /** The roots the service searched (for "no such file" errors). */
  readonly roots: readonly string[];
  /** Path (relative, `/`-separated) -> sha256 (hex) of the file served for it. */
  readonly files: Readonly<Record<string, string>>;
  /** Every directory path, sorted. */
  readonly dirs: readonly string[];
}

/** Objects by name. */
export interface ObjectPort {
  get(name: string): Promise<Uint8Array | undefined>;
}

/** Objects by name, writable (the service). */
export interface WritableObjectPort extends ObjectPort {
  put(name: string, data: Uint8Array): Promise<void>;
  delete(name: string): Promise<void>;
}

/** JSON records by key (a KV bucket). */
export interface RecordPort<T> {
  get(key: string): Promise<{ readonly value: T } | undefined>;
}

/** JSON records by key, writable (the service). */
export interface WritableRecordPort<T> extends RecordPort<T> {
  put(key: string, value: T): Promise<unknown>;
  delete(key: string): Promise<void>;
}

/** What the index bucket holds: one `EnvIndex` per environment and the list of environments. */
export type IndexRecord = EnvIndex | readonly string[];

/** The index key of an environment. */
export const envIndexKey = (env: string) => `env.${env}`;
/** The index key of the list of environments. */
export const ENVS_KEY = "envs";

/** Default bucket names (the agents' NATS permissions name them: src/keys/nats-auth.ts). */
export { FILESERVER_BUCKET, FILESERVER_INDEX_BUCKET } from "../bus/index.js";
