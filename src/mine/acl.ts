/**
 * Who may read what. Salt's master-side `mine_get` map: requester id regex -> list of function
 * regexes (both `re.match`, anchored at the start only); with a map configured, a requester that
 * no entry allows gets nothing. Per-function `allow_tgt` (written by the agent into the value):
 * only requesters matching that target may read it. Requests without a requester (operators: the
 * CLI, the reactor service, orchestration) are not restricted, as Salt's runner `mine.get`.
 */
import { compilePythonRegex, compileTarget, type TargetMatcher } from "../core/targeting/index.js";
import { TARGET_TYPES, type TargetType } from "../core/index.js";
import type { MineEntry, MinionInfo } from "./store.js";

/** Salt's `mine_get`: requester id regex -> function regexes. */
export type MineGetAcl = Readonly<Record<string, readonly string[]>>;

/** Why a value was left out. */
export type OmitReason = "stale" | "mine_get" | "allow_tgt";

/** Decides, for one request, whether a requester may read a function and an entry. */
export interface AccessCheck {
  functionAllowed(fun: string): boolean;
  entryAllowed(entry: MineEntry): boolean;
}

/** Builds the check for one request. `requester` undefined = an operator (unrestricted). */
export function accessCheck(acl: MineGetAcl | undefined, requester: MinionInfo | string | undefined): AccessCheck {
  if (requester === undefined) return { functionAllowed: () => true, entryAllowed: () => true };
  const id = typeof requester === "string" ? requester : requester.id;
  const record = typeof requester === "string" ? undefined : requester;
  const perms = acl ? functionPatterns(acl, id) : undefined;
  const targets = new Map<string, TargetMatcher | undefined>();
  return {
    functionAllowed: (fun) => perms === undefined || perms.some((re) => re.test(fun)),
    entryAllowed(entry) {
      if (entry.allow_tgt === undefined) return true;
      if (!record) return false;
      const type = entry.allow_tgt_type ?? "glob";
      const key = `${type}\u0000${JSON.stringify(entry.allow_tgt)}`;
      if (!targets.has(key)) targets.set(key, compileAllowTarget(entry.allow_tgt, type));
      return targets.get(key)?.test(record) ?? false;
    },
  };
}

function functionPatterns(acl: MineGetAcl, requester: string): RegExp[] {
  const out: RegExp[] = [];
  for (const [who, funs] of Object.entries(acl)) {
    if (!safeRegex(who)?.test(requester)) continue;
    for (const f of funs) {
      const re = safeRegex(f);
      if (re) out.push(re);
    }
  }
  return out;
}

/** A bad allow_tgt denies (it cannot be evaluated), as a bad ACL pattern allows nothing. */
function compileAllowTarget(tgt: string | readonly string[], type: string): TargetMatcher | undefined {
  if (!(TARGET_TYPES as readonly string[]).includes(type)) return undefined;
  try {
    return compileTarget(tgt, type as TargetType);
  } catch {
    return undefined;
  }
}

function safeRegex(p: string): RegExp | undefined {
  try {
    return compilePythonRegex(p);
  } catch {
    return undefined;
  }
}
