/** Salt's arguments of the state.* functions: mods, test, pillar. */
import { StateArgumentError } from "../core/errors.js";

/** `mods` as Salt's split_input: a list, or a comma-separated string. */
export function splitInput(v: unknown): string[] {
  if (v === undefined || v === null || v === "") return [];
  const items = Array.isArray(v) ? v : String(v).split(",");
  return items.map((s) => String(s).trim()).filter((s) => s !== "");
}

export function requireMods(args: unknown[], kw: Record<string, unknown>, fun: string): string[] {
  const mods = splitInput(args[0] ?? kw.mods);
  if (mods.length === 0)
    throw new StateArgumentError(
      fun,
      "mods",
      "is required (an SLS name, a list, or names separated by commas)",
    );
  return mods;
}

export function bool(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === "string" && ["true", "yes", "1"].includes(v.toLowerCase()));
}

/** Salt's _get_test_value: the call's `test=`, else the agent's `test` option. */
export function testValue(kw: Record<string, unknown>, opts: Readonly<Record<string, unknown>>): boolean {
  return kw.test !== undefined && kw.test !== null ? bool(kw.test) : bool(opts.test);
}

export function pillarOverride(kw: Record<string, unknown>, fun: string): Record<string, unknown> {
  const p = kw.pillar;
  if (p === undefined || p === null) return {};
  if (typeof p !== "object" || Array.isArray(p))
    throw new StateArgumentError(
      fun,
      "pillar",
      "must be formatted as a dictionary, unless pillar_enc is specified",
    );
  return p as Record<string, unknown>;
}

/** The pillar with the call's `pillar=` merged over it (maps merge recursively, as Salt's merge). */
export function mergePillar(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergePillar(b, v) : v;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function pick(m: Record<string, string[]>, env: string): Record<string, string[]> {
  return m[env] ? { [env]: m[env] } : {};
}

/** `exclude` as Salt takes it: `a,b` (IDs), or a list of IDs and `{sls: name}` / `{id: name}` maps. */
export function excludeList(v: unknown): unknown[] {
  if (!Array.isArray(v)) return splitInput(v);
  return v.flatMap((x) =>
    typeof x === "string" ? splitInput(x) : x !== null && typeof x === "object" ? [x] : [],
  );
}
