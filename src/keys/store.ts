/**
 * The `keys` KV bucket. Like Salt's pki dirs, an id may have one key per state: key
 * `kvKey(state, id)` (`accepted.web1=2Eexample=2Ecom`), value KeyRecord. Settings are explicit.
 */
import { kvKey, kvKeyParts, openKv, type Connection, type JsonKv, type KvValue } from "../bus/index.js";
import { KEY_STATES, type KeySlots, type KeyState } from "../core/auth/index.js";

/** One stored key. */
export interface KeyRecord {
  readonly id: string;
  /** Public nkey (`U...`). */
  readonly pub: string;
  readonly state: KeyState;
  /** ISO time this key was first presented. */
  readonly first_seen: string;
  /** ISO time of the last auth attempt with this key (or the last command on it). */
  readonly last_seen: string;
}

/** The keys bucket. */
export type KeyStore = JsonKv<KeyRecord>;

/** Bucket options. */
export interface KeyStoreOptions {
  /** Default `keys`. */
  readonly bucket?: string;
  /** Default 1 (3 on a cluster). */
  readonly replicas?: number;
  /** Default file. */
  readonly storage?: "file" | "memory";
}

/** Opens (creating when missing) the keys bucket: history 5 (for forensics), no age or byte limit. */
export function openKeyStore(conn: Connection, opts: KeyStoreOptions = {}): Promise<KeyStore> {
  return openKv<KeyRecord>(conn, {
    bucket: opts.bucket ?? "keys",
    history: 5,
    replicas: opts.replicas ?? 1,
    maxAgeMs: 0,
    maxBytes: -1,
    storage: opts.storage ?? "file",
  });
}

/** The KV key of an id's key in a state. */
export function keyKey(state: KeyState, id: string): string {
  return kvKey(state, id);
}

/** The state and id of a KV key of the bucket; undefined for other shapes. */
export function parseKeyKey(key: string): { state: KeyState; id: string } | undefined {
  const parts = kvKeyParts(key);
  const state = parts[0] as KeyState;
  return parts.length === 2 && KEY_STATES.includes(state) ? { state, id: parts[1]! } : undefined;
}

/** The stored keys of one id, per state. */
export async function readSlots(store: KeyStore, id: string): Promise<{ slots: KeySlots; records: Partial<Record<KeyState, KvValue<KeyRecord>>> }> {
  const values = await Promise.all(KEY_STATES.map((s) => store.get(keyKey(s, id))));
  const slots: KeySlots = {};
  const records: Partial<Record<KeyState, KvValue<KeyRecord>>> = {};
  KEY_STATES.forEach((s, i) => {
    const v = values[i];
    if (v) {
      slots[s] = v.value.pub;
      records[s] = v;
    }
  });
  return { slots, records };
}

/**
 * Every stored key. The key listing may name a key twice while it is being written (the listing
 * follows the bucket's stream), so keys are de-duplicated before reading.
 */
export async function listRecords(store: KeyStore): Promise<KeyRecord[]> {
  const keys = [...new Set(await store.keys())];
  const values = await Promise.all(keys.map((k) => store.get(k)));
  return values.flatMap((v) => (v ? [v.value] : []));
}
