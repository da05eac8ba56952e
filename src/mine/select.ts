/**
 * The mine.get answer from a view of the stores (fetched, or a live in-memory mirror): targeting
 * over accepted minions, the age limit, and the ACLs. Synchronous, so that templates can use it.
 */
import { matchTargets } from "../core/targeting/index.js";
import type { Logger, TargetType } from "../core/index.js";
import { accessCheck, type MineGetAcl, type OmitReason } from "./acl.js";
import { isAccepted, type MineEntry, type MinionInfo } from "./store.js";

/** What mine.get reads: the minions, and the entries of one function. */
export interface MineView {
  readonly minions: ReadonlyMap<string, MinionInfo>;
  entries(fun: string): Iterable<MineEntry>;
}

/** Per-request options of mine.get. */
export interface MineGetOptions {
  /** Values older than this are left out. Default: the reader's `maxAgeMs`, else 3 x the entry's interval_s. */
  readonly maxAgeMs?: number;
  /** Return stale values too, as `{stale: true, value, stamp}`. Default false. */
  readonly includeStale?: boolean;
  /** The agent asking (agent-side `mine.get`); undefined for operators (no ACL). */
  readonly requester?: string;
}

/** A value that was not returned, and why. */
export interface MineOmission {
  readonly minion: string;
  readonly fun: string;
  readonly reason: OmitReason;
}

/** A stale value returned with `includeStale`. */
export interface StaleValue {
  readonly stale: true;
  readonly value: unknown;
  readonly stamp: string;
}

/** The answer: `{minion: value}` for one function, `{fun: {minion: value}}` for a list; and what was left out. */
export interface MineResult {
  readonly values: Record<string, unknown>;
  readonly omitted: MineOmission[];
}

/** Reader-wide settings used by selectMine. */
export interface SelectContext {
  readonly acl?: MineGetAcl;
  /** `mine_max_age` in ms; default: 3 x each entry's interval. */
  readonly maxAgeMs?: number;
  readonly now: () => number;
  readonly log: Logger;
}

/** Evaluates mine.get over a view. Throws TargetSyntaxError on a bad target. */
export function selectMine(
  view: MineView,
  tgt: string | readonly string[],
  fun: string | readonly string[],
  tgtType: TargetType,
  opts: MineGetOptions,
  ctx: SelectContext,
): MineResult {
  const accepted = [...view.minions.values()].filter(isAccepted);
  const targeted = new Set(matchTargets(tgt, tgtType, accepted));
  const requester = opts.requester === undefined ? undefined : (view.minions.get(opts.requester) ?? opts.requester);
  const access = accessCheck(ctx.acl, requester);
  const omitted: MineOmission[] = [];
  const one = (f: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (!access.functionAllowed(f)) {
      for (const id of [...targeted].sort()) omitted.push({ minion: id, fun: f, reason: "mine_get" });
      return out;
    }
    const entries = [...view.entries(f)].filter((e) => targeted.has(e.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of entries) {
      if (!access.entryAllowed(e)) omitted.push({ minion: e.id, fun: f, reason: "allow_tgt" });
      else if (!isStale(e, opts, ctx)) out[e.id] = e.value;
      else if (opts.includeStale) out[e.id] = { stale: true, value: e.value, stamp: e.stamp } satisfies StaleValue;
      else omitted.push({ minion: e.id, fun: f, reason: "stale" });
    }
    return out;
  };
  const values = typeof fun === "string" ? one(fun) : Object.fromEntries(fun.map((f) => [f, one(f)]));
  logDenied(ctx.log, opts.requester, omitted);
  return { values, omitted };
}

function isStale(e: MineEntry, opts: MineGetOptions, ctx: SelectContext): boolean {
  const maxAge = opts.maxAgeMs ?? ctx.maxAgeMs ?? 3 * e.interval_s * 1000;
  if (!(maxAge > 0)) return false;
  const at = Date.parse(e.stamp);
  return !Number.isFinite(at) || ctx.now() - at > maxAge;
}

function logDenied(log: Logger, requester: string | undefined, omitted: readonly MineOmission[]): void {
  const denied = omitted.filter((o) => o.reason !== "stale");
  if (denied.length === 0) return;
  log.warn({ requester, denied: denied.slice(0, 20), count: denied.length }, "mine.get: values left out by the mine ACL");
}
