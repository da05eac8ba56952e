/**
 * KV buckets holding JSON values (keys, minions, mine, reactions). Settings are explicit.
 * Per-key TTL is not used: servers below 2.11 ignore it silently (NATS-NOTES.md); expiry is kept in
 * the values (timestamps) where needed, and the bucket-wide `maxAgeMs` bounds growth.
 */
import { Kvm, KvWatchInclude, type KV } from "@nats-io/kv";
import { StorageType } from "@nats-io/jetstream";
import { BusError, errorMessage } from "../core/index.js";
import type { Connection } from "./connection.js";

/** Bucket settings. */
export interface KvSettings {
  readonly bucket: string;
  /** Revisions kept per key. Default 1. */
  readonly history?: number;
  /** Default 1; 3 on a cluster. */
  readonly replicas?: number;
  /** Whole-bucket age limit in ms (0 = none). Default 0. */
  readonly maxAgeMs?: number;
  /** Default -1 (no limit). */
  readonly maxBytes?: number;
  /** Default file. */
  readonly storage?: "file" | "memory";
}

/** An entry read back. */
export interface KvValue<T> {
  readonly key: string;
  readonly value: T;
  readonly revision: number;
  readonly created: Date;
}

/** A change seen by a watch. */
export interface KvChange<T> {
  readonly key: string;
  readonly op: "put" | "delete";
  readonly value: T | undefined;
  readonly revision: number;
}

/** A JSON key-value bucket. Keys are KV keys (see kvKey for escaping arbitrary parts). */
export interface JsonKv<T> {
  readonly bucket: string;
  get(key: string): Promise<KvValue<T> | undefined>;
  put(key: string, value: T): Promise<number>;
  /** Writes only if the key does not exist; returns undefined if it does. */
  create(key: string, value: T): Promise<number | undefined>;
  /** Writes only if the key is at `revision`; returns undefined on a conflict. */
  update(key: string, value: T, revision: number): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  purge(key: string): Promise<void>;
  keys(filter?: string): Promise<string[]>;
  /** Current values (of keys matching `filter`). */
  entries(filter?: string): Promise<KvValue<T>[]>;
  /** Changes as they happen; with `initial`, current values first. */
  watch(opts?: { filter?: string; initial?: boolean }): Promise<AsyncIterable<KvChange<T>> & { stop(): void }>;
}

/** Opens a bucket, creating it with the given settings when missing. */
export async function openKv<T>(conn: Connection, s: KvSettings): Promise<JsonKv<T>> {
  let kv: KV;
  try {
    kv = await new Kvm(conn.nc).create(s.bucket, {
      history: s.history ?? 1,
      replicas: s.replicas ?? 1,
      ttl: s.maxAgeMs ?? 0,
      max_bytes: s.maxBytes ?? -1,
      storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    });
  } catch (err) {
    throw new BusError(`cannot open KV bucket ${s.bucket}: ${errorMessage(err)}`, { cause: err });
  }
  return wrapKv<T>(s.bucket, kv);
}

/**
 * Binds to a bucket the service created, with no JetStream API call (agents: their permissions allow
 * only puts, deletes and direct gets of their own keys). Keys and watches need more rights.
 */
export function bindKv<T>(conn: Connection, bucket: string): Promise<JsonKv<T>> {
  return new Kvm(conn.js)
    .open(bucket, { allow_direct: true })
    .then((kv) => wrapKv<T>(bucket, kv))
    .catch((err: unknown) => {
      throw new BusError(`cannot bind KV bucket ${bucket}: ${errorMessage(err)}`, { cause: err });
    });
}

const isConflict = (err: unknown) => /wrong last sequence|key exists|10071/i.test(errorMessage(err));

/**
 * Retries a KV request that JetStream refused for a moment: nats-server 2.9.10 answers "jetstream is
 * not enabled" around every configuration reload (the generated auth reloads it as keys are
 * accepted), without doing the request, so repeating it is safe. Other errors go through at once.
 */
async function outlastReload<R>(fn: () => Promise<R>, forMs = 10_000): Promise<R> {
  const until = Date.now() + forMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await fn();
    } catch (err) {
      if (!/jetstream (is )?not enabled/i.test(errorMessage(err)) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function wrapKv<T>(bucket: string, kv: KV): JsonKv<T> {
  const enc = (v: T) => JSON.stringify(v);
  const get = async (key: string): Promise<KvValue<T> | undefined> => {
    const e = await outlastReload(() => kv.get(key));
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    return { key, value: e.json<T>(), revision: e.revision, created: e.created };
  };
  const keys = async (filter?: string) => {
    const out: string[] = [];
    for await (const k of await outlastReload(() => kv.keys(filter ?? ">"))) out.push(k);
    return out;
  };
  return {
    bucket,
    get,
    put: (key, value) => outlastReload(() => kv.put(key, enc(value))),
    async create(key, value) {
      try {
        return await outlastReload(() => kv.create(key, enc(value)));
      } catch (err) {
        if (isConflict(err)) return undefined;
        throw err;
      }
    },
    async update(key, value, revision) {
      try {
        return await outlastReload(() => kv.update(key, enc(value), revision));
      } catch (err) {
        if (isConflict(err)) return undefined;
        throw err;
      }
    },
    delete: (key) => outlastReload(() => kv.delete(key)),
    purge: (key) => outlastReload(() => kv.purge(key)),
    keys,
    async entries(filter) {
      const out: KvValue<T>[] = [];
      for (const k of await keys(filter)) {
        const v = await get(k);
        if (v) out.push(v);
      }
      return out;
    },
    async watch(opts = {}) {
      const it = await kv.watch({
        key: opts.filter ?? ">",
        include: opts.initial ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
      });
      return {
        async *[Symbol.asyncIterator]() {
          for await (const e of it) {
            const put = e.operation === "PUT";
            yield { key: e.key, op: put ? "put" : "delete", value: put ? e.json<T>() : undefined, revision: e.revision };
          }
        },
        stop: () => it.stop(),
      };
    },
  };
}
