/**
 * Salt's eauth ACL semantics (salt/utils/minions.py `fill_auth_list`, `auth_check`, `spec_check`):
 * - a user's list is the entries of every name key that matches the user (fnmatch, else a
 *   full-match regex) plus those of every `group%` the user is in; `*` applies only when no name
 *   matched (permissive_acl off, Salt's default);
 * - a bare regex allows that function on every target; `{target: [rules]}` allows the rules when
 *   every minion the request targets is also matched by `target` (read as a compound target);
 * - `@runner`, `@wheel`, `@jobs`, `@<module>` (optionally with rules) allow runner and wheel calls;
 * - a rule `{fun: {args: [...], kwargs: {...}}}` allows `fun` only with matching arguments.
 * Function regexes match as Python's `re.match`: anchored at the start only.
 */
import type { AclEntry, FunMatcher, FunRule, FunWithArgs } from "../config/index.js";
import { compileTagGlob } from "../core/glob/index.js";

/** Resolves a target to the ids of the known minions it matches. */
export type TargetResolver = (tgt: string | readonly string[], tgtType: string) => readonly string[];

/** The entries that apply to `name` (with its groups), in Salt's order. */
export function fillAuthList(
  acl: Readonly<Record<string, readonly AclEntry[]>>,
  name: string,
  groups: readonly string[],
): AclEntry[] {
  const out: AclEntry[] = [];
  let nameMatched = false;
  for (const [who, entries] of Object.entries(acl)) {
    if (who === "*") continue;
    if (who.endsWith("%")) {
      if (groups.includes(who.slice(0, -1))) out.push(...entries);
    } else if (exprMatch(name, who)) {
      nameMatched = true;
      out.push(...entries);
    }
  }
  if (!nameMatched && acl["*"]) out.push(...acl["*"]);
  return out;
}

/** Whether `name` appears in the ACL at all (by name, `*`, or one of its groups): Salt refuses a login otherwise. */
export function isListed(
  acl: Readonly<Record<string, readonly AclEntry[]>>,
  name: string,
  groups: readonly string[],
): boolean {
  return Object.keys(acl).some(
    (who) => who === "*" || (who.endsWith("%") ? groups.includes(who.slice(0, -1)) : exprMatch(name, who)),
  );
}

/** Salt's expr_match: fnmatch, else a regex matching the whole value. */
export function exprMatch(value: string, expr: string): boolean {
  try {
    if (compileTagGlob(expr).test(value)) return true;
  } catch {
    // not a glob: try it as a regex
  }
  try {
    return new RegExp(`^(?:${expr})$`, "u").test(value);
  } catch {
    return false;
  }
}

/** A `local` call: may `fun` run with these arguments on every minion `tgt` resolves to? */
export function authCheck(
  authList: readonly AclEntry[],
  call: {
    fun: string;
    arg: readonly unknown[];
    kwarg: Readonly<Record<string, unknown>>;
    tgt: string | readonly string[];
    tgtType: string;
  },
  resolve: TargetResolver,
): boolean {
  let targeted: Set<string> | undefined;
  for (const e of authList) {
    if (e.kind === "fun") {
      if (matches(e.rule, call.fun)) return true;
      continue;
    }
    if (e.target.startsWith("@")) continue;
    targeted ??= new Set(resolve(call.tgt, call.tgtType));
    const allowed = new Set(resolveQuiet(resolve, e.target));
    if (![...targeted].every((id) => allowed.has(id))) continue;
    if (funCheck(e.rules, call.fun, call.arg, call.kwarg)) return true;
  }
  return false;
}

/** A runner or wheel call (`form`): Salt's spec_check. */
export function specCheck(
  authList: readonly AclEntry[],
  fun: string,
  kwarg: Readonly<Record<string, unknown>>,
  form: "runner" | "wheel",
): boolean {
  const comps = fun.split(".");
  if (comps.length !== 2) return false;
  const [mod, name] = comps as [string, string];
  const formNames = [`@${form}`, `@${form}s`];
  for (const e of authList) {
    if (e.kind === "fun") {
      const src = e.rule.source;
      if (src.startsWith("@") && (src.slice(1) === mod || formNames.includes(src))) return true;
      continue;
    }
    if (!e.target.startsWith("@")) continue;
    if (e.target.slice(1) === mod && funCheck(e.rules, name, [], kwarg)) return true;
    if (formNames.includes(e.target) && funCheck(e.rules, fun, [], kwarg)) return true;
  }
  return false;
}

/** Whether the list allows anything on every minion (a bare function regex, or a target of `*`). */
export function isUnrestricted(authList: readonly AclEntry[]): boolean {
  return authList.some(
    (e) =>
      (e.kind === "fun" && !e.rule.source.startsWith("@")) ||
      (e.kind === "target" && (e.target === "*" || e.target === ".*")),
  );
}

function funCheck(
  rules: readonly FunRule[],
  fun: string,
  arg: readonly unknown[],
  kwarg: Readonly<Record<string, unknown>>,
): boolean {
  for (const r of rules) {
    if ("re" in r) {
      if (matches(r, fun)) return true;
    } else if (matches(r.fun, fun) && r.conditions.some((c) => argsMatch(c, arg, kwarg))) return true;
  }
  return false;
}

function argsMatch(
  c: FunWithArgs["conditions"][number],
  arg: readonly unknown[],
  kwarg: Readonly<Record<string, unknown>>,
): boolean {
  for (let i = 0; i < c.args.length; i++) {
    if (i >= arg.length) return false;
    const m = c.args[i];
    if (m && !m.re.test(pyStr(arg[i]))) return false;
  }
  for (const [k, m] of Object.entries(c.kwargs)) {
    if (!Object.hasOwn(kwarg, k)) return false;
    if (m && !m.re.test(pyStr(kwarg[k]))) return false;
  }
  return true;
}

function matches(m: FunMatcher, fun: string): boolean {
  return m.re.test(fun);
}

function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return typeof v === "object" ? JSON.stringify(v) : String(v as number);
}

function resolveQuiet(resolve: TargetResolver, target: string): readonly string[] {
  try {
    return resolve(target, "compound");
  } catch {
    return [];
  }
}
