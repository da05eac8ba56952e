/**
 * Salt's key wheel functions (`key.list`, `key.list_all`, `key.accept`, `key.reject`, `key.delete`,
 * `key.finger`, `key.name_match`) over the keys bucket, with Salt's argument names, return shapes
 * and `salt/key` events. Each is a plain `(kwarg) => Promise<result>`.
 */
import { compileTagGlob } from "../core/glob/index.js";
import { KeyCommandError } from "../core/errors.js";
import { createUser } from "@nats-io/nkeys";
import { agentGlobViolation, agentIdViolation } from "../core/agent-id.js";
import { KEY_STATES, fingerprint, type KeyState } from "../core/auth/index.js";
import { keyKey, listRecords, type KeyRecord, type KeyStore } from "./store.js";

/** Publishes an event (an EventSink's emit). */
export type EmitFn = (tag: string, data: Record<string, unknown>) => Promise<unknown>;

/** Salt's names of the key states in wheel returns. */
export const SALT_STATUS: Readonly<Record<KeyState, string>> = {
  accepted: "minions",
  pending: "minions_pre",
  rejected: "minions_rejected",
  denied: "minions_denied",
};

/** `{minions: [...], minions_pre: [...], ...}`, as Salt's key.list_all and salt-key --out json. */
export type KeyListing = Record<string, string[]>;

/** A wheel function. */
export type KeyWheelFunction = (kwarg?: Readonly<Record<string, unknown>>) => Promise<unknown>;

/** The result of a call with the verdict a reaction or the CLI needs. */
export interface KeyCallResult {
  /** Salt's return value. */
  readonly return: unknown;
  /** False when a change was asked for and nothing matched. */
  readonly success: boolean;
  readonly comment?: string;
}

/** What the wheel needs. */
export interface KeyWheelOptions {
  readonly store: KeyStore;
  /** Publishes `salt/key` events. */
  readonly emit: EmitFn;
  /** Called once per id whose keys were deleted (purge `minions` and `mine` entries there). */
  readonly onDelete?: (id: string) => Promise<void>;
  readonly now?: () => Date;
}

/** A key pair made by the service for an agent and accepted (salt-api's `POST /keys`). */
export interface GeneratedKey {
  readonly id: string;
  /** Public nkey (`U...`), now in `accepted`. */
  readonly pub: string;
  /** The nkey seed (`SU...`): the agent's `agent.nk`. Never published, never logged. */
  readonly seed: string;
  readonly finger: string;
}

/** The key wheel. */
export interface KeyWheel {
  readonly functions: Readonly<Record<string, KeyWheelFunction>>;
  /**
   * Salt's `key.gen_accept`: a new key pair for `id`, accepted at once. Not among `functions` (nor
   * the signed wheel subject, nor reactions): its return holds a seed, which must not travel in
   * events or NATS replies. An id that has a key in any state is refused unless `force`, which
   * replaces it. Emits `salt/key` `{id, act: "accept", result: true}`.
   */
  genAccept(id: string, force?: boolean): Promise<GeneratedKey>;
  /** Calls `key.<name>` with Salt's return and a success flag and comment. */
  call(fun: string, kwarg?: Readonly<Record<string, unknown>>): Promise<KeyCallResult>;
}

/** The names of the key wheel functions. */
export const KEY_FUNCTIONS = ["key.list", "key.list_all", "key.accept", "key.reject", "key.delete", "key.finger", "key.name_match"] as const;

/** Salt's name_match: `match` is a glob, or a comma-separated list (or array) of globs. */
function matcher(fun: string, match: unknown): (id: string) => boolean {
  const items = Array.isArray(match) ? match : typeof match === "string" ? (match.includes(",") ? match.split(",") : [match]) : undefined;
  if (!items || items.length === 0 || items.some((m) => typeof m !== "string")) {
    throw new KeyCommandError(fun, "match must be a glob, a comma-separated list of globs, or a list of them");
  }
  for (const m of items as string[]) {
    const bad = agentGlobViolation(m);
    if (bad) throw new KeyCommandError(fun, bad);
  }
  const globs = (items as string[]).map((m) => compileTagGlob(m, "fnmatch"));
  return (id) => globs.some((g) => g.test(id));
}

function group(records: readonly KeyRecord[], pick: (r: KeyRecord) => boolean, all: boolean): KeyListing {
  const out: KeyListing = {};
  if (all) for (const s of KEY_STATES) out[SALT_STATUS[s]] = [];
  for (const r of records) if (pick(r)) (out[SALT_STATUS[r.state]] ??= []).push(r.id);
  for (const ids of Object.values(out)) ids.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return out;
}

const STATUS_ALIASES: Readonly<Record<string, KeyState | "all">> = {
  pre: "pending", un: "pending", unaccepted: "pending", pending: "pending",
  acc: "accepted", accepted: "accepted",
  rej: "rejected", rejected: "rejected",
  den: "denied", denied: "denied",
  all: "all",
};

/** Creates the key wheel over a store. */
export function createKeyWheel(opts: KeyWheelOptions): KeyWheel {
  const now = () => (opts.now ?? (() => new Date()))().toISOString();
  const nameMatch = async (fun: string, match: unknown) => {
    const m = matcher(fun, match);
    return group(await listRecords(opts.store), (r) => m(r.id), false);
  };

  /** Moves matched keys of `from` states to `to`; fires salt/key per moved key; returns how many moved. */
  const move = async (fun: string, match: unknown, from: KeyState[], to: KeyState, act: "accept" | "reject") => {
    const m = matcher(fun, match);
    const records = (await listRecords(opts.store)).filter((r) => from.includes(r.state) && m(r.id));
    for (const r of records) {
      await opts.store.put(keyKey(to, r.id), { ...r, state: to, last_seen: now() });
      await opts.store.delete(keyKey(r.state, r.id));
      await opts.emit("salt/key", { id: r.id, act, result: true });
    }
    return records.length;
  };

  const impl = {
    "key.name_match": async (kw: Record<string, unknown>) => ({ return: await nameMatch("key.name_match", kw["match"]) }),
    "key.list": async (kw: Record<string, unknown>) => {
      const status = STATUS_ALIASES[String(kw["match"] ?? "all").toLowerCase()];
      if (!status) throw new KeyCommandError("key.list", `match must be one of ${Object.keys(STATUS_ALIASES).join(", ")}`);
      const records = await listRecords(opts.store);
      if (status === "all") return { return: group(records, () => true, true) };
      return { return: { [SALT_STATUS[status]]: group(records, (r) => r.state === status, true)[SALT_STATUS[status]]! } };
    },
    "key.list_all": async () => ({ return: group(await listRecords(opts.store), () => true, true) }),
    "key.accept": async (kw: Record<string, unknown>) => {
      const from: KeyState[] = ["pending", ...(kw["include_rejected"] ? (["rejected"] as const) : []), ...(kw["include_denied"] ? (["denied"] as const) : [])];
      const moved = await move("key.accept", kw["match"], from, "accepted", "accept");
      return { return: await nameMatch("key.accept", kw["match"]), moved, none: `The key glob '${String(kw["match"])}' does not match any unaccepted keys.` };
    },
    "key.reject": async (kw: Record<string, unknown>) => {
      const from: KeyState[] = ["pending", ...(kw["include_accepted"] ? (["accepted"] as const) : []), ...(kw["include_denied"] ? (["denied"] as const) : [])];
      const moved = await move("key.reject", kw["match"], from, "rejected", "reject");
      return { return: await nameMatch("key.reject", kw["match"]), moved, none: `The key glob '${String(kw["match"])}' does not match any unrejected keys.` };
    },
    "key.delete": async (kw: Record<string, unknown>) => {
      const m = matcher("key.delete", kw["match"]);
      const records = (await listRecords(opts.store)).filter((r) => m(r.id));
      for (const r of records) {
        await opts.store.purge(keyKey(r.state, r.id));
        await opts.emit("salt/key", { id: r.id, act: "delete", result: true });
      }
      for (const id of new Set(records.map((r) => r.id))) await opts.onDelete?.(id);
      return { return: await nameMatch("key.delete", kw["match"]), moved: records.length, none: `The key glob '${String(kw["match"])}' does not match any keys.` };
    },
    "key.finger": async (kw: Record<string, unknown>) => {
      const m = matcher("key.finger", kw["match"] ?? "*");
      const out: Record<string, Record<string, string>> = {};
      for (const r of await listRecords(opts.store)) if (m(r.id)) (out[SALT_STATUS[r.state]] ??= {})[r.id] = fingerprint(r.pub);
      return { return: out };
    },
  } satisfies Record<(typeof KEY_FUNCTIONS)[number], (kw: Record<string, unknown>) => Promise<{ return: unknown; moved?: number; none?: string }>>;

  const call = async (fun: string, kwarg: Readonly<Record<string, unknown>> = {}): Promise<KeyCallResult> => {
    const f = (impl as Record<string, ((kw: Record<string, unknown>) => Promise<{ return: unknown; moved?: number; none?: string }>) | undefined>)[fun];
    if (!f) throw new KeyCommandError(fun, `unknown key function (known: ${KEY_FUNCTIONS.join(", ")})`);
    const r = await f({ ...kwarg });
    if (r.moved === 0) return { return: r.return, success: false, ...(r.none ? { comment: r.none } : {}) };
    return { return: r.return, success: true };
  };
  const functions = Object.fromEntries(KEY_FUNCTIONS.map((name) => [name, async (kw?: Readonly<Record<string, unknown>>) => (await call(name, kw)).return]));
  const genAccept = async (id: string, force = false): Promise<GeneratedKey> => {
    const bad = agentIdViolation(id);
    if (bad) throw new KeyCommandError("key.gen_accept", bad);
    const existing = (await listRecords(opts.store)).filter((r) => r.id === id);
    if (existing.length > 0 && !force) {
      throw new KeyCommandError("key.gen_accept", `${id} already has a key (${existing.map((r) => r.state).join(", ")}); force=true replaces it`);
    }
    for (const r of existing) await opts.store.purge(keyKey(r.state, r.id));
    const kp = createUser();
    const pub = kp.getPublicKey();
    const t = now();
    await opts.store.put(keyKey("accepted", id), { id, pub, state: "accepted", first_seen: t, last_seen: t });
    await opts.emit("salt/key", { id, act: "accept", result: true });
    return { id, pub, seed: new TextDecoder().decode(kp.getSeed()), finger: fingerprint(pub) };
  };
  return { functions, call, genAccept };
}
