/**
 * The mine's stores. `mine` bucket: key `kvKey(agentId, name)` (parts escaped), value MineEntry.
 * `minions` bucket: key `kvKey(agentId)`, value MinionInfo (written by the agent app; read here for
 * targeting). Settings are explicit (DESIGN.md 2.3).
 */
import { openKv, kvKey, encodeKeyPart, kvKeyParts, type Connection, type JsonKv } from "../bus/index.js";

/** One stored mine value of one agent. */
export interface MineEntry {
  /** Agent id. */
  readonly id: string;
  /** The name it is stored and looked up under (the alias of `mine_functions`, or the function). */
  readonly fun: string;
  /** The function that produced it, when `fun` is an alias (`mine_function`). */
  readonly mine_function?: string;
  readonly value: unknown;
  /** When it was produced (ISO-8601 UTC). */
  readonly stamp: string;
  /** The agent's mine interval in seconds (readers derive the default maximum age from it). */
  readonly interval_s: number;
  /** Salt's per-function ACL: only minions matching this target may read the value. */
  readonly allow_tgt?: string | readonly string[];
  /** Target type of `allow_tgt`. Default glob. */
  readonly allow_tgt_type?: string;
}

/** What the `minions` bucket holds per agent. */
export interface MinionInfo {
  readonly id: string;
  readonly grains: Readonly<Record<string, unknown>>;
  /** ISO time the agent was last seen. */
  readonly last_seen: string;
  /** Key state; absent means accepted (the agent app writes records of accepted agents). */
  readonly key_state?: "accepted" | "pending" | "rejected" | "denied";
}

/** The mine bucket. */
export type MineStore = JsonKv<MineEntry>;
/** The minions bucket. */
export type MinionsStore = JsonKv<MinionInfo>;

/** Bucket options. */
export interface StoreOptions {
  /** Bucket name. Defaults: `mine`, `minions`. */
  readonly bucket?: string;
  /** Default 1 (3 on a cluster). */
  readonly replicas?: number;
  /** Default file. */
  readonly storage?: "file" | "memory";
}

/** Opens (creating when missing) the mine bucket: history 1, no age limit, no byte limit. */
export function openMineStore(conn: Connection, opts: StoreOptions = {}): Promise<MineStore> {
  return openKv<MineEntry>(conn, { bucket: opts.bucket ?? "mine", history: 1, replicas: opts.replicas ?? 1, maxAgeMs: 0, maxBytes: -1, storage: opts.storage ?? "file" });
}

/** Opens (creating when missing) the minions bucket: history 1, no age limit, no byte limit. */
export function openMinionsStore(conn: Connection, opts: StoreOptions = {}): Promise<MinionsStore> {
  return openKv<MinionInfo>(conn, { bucket: opts.bucket ?? "minions", history: 1, replicas: opts.replicas ?? 1, maxAgeMs: 0, maxBytes: -1, storage: opts.storage ?? "file" });
}

/** The mine key of an agent's function. */
export function mineKey(agentId: string, fun: string): string {
  return kvKey(agentId, fun);
}

/** The minions key of an agent. */
export function minionKey(agentId: string): string {
  return kvKey(agentId);
}

/** A subject filter of mine keys: one function of every agent, or every function of one agent. */
export function mineFilter(sel: { agentId?: string; fun?: string }): string {
  return `${sel.agentId === undefined ? "*" : encodeKeyPart(sel.agentId)}.${sel.fun === undefined ? "*" : encodeKeyPart(sel.fun)}`;
}

/** The agent id and function of a mine key; undefined for a key of another shape. */
export function parseMineKey(key: string): { id: string; fun: string } | undefined {
  const parts = kvKeyParts(key);
  return parts.length === 2 ? { id: parts[0]!, fun: parts[1]! } : undefined;
}

/** Whether a minion counts as accepted for targeting. */
export function isAccepted(m: MinionInfo): boolean {
  return m.key_state === undefined || m.key_state === "accepted";
}
