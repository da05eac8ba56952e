/**
 * A target never widens beyond what its author wrote (docs/security.md "Targets from event data").
 * The reactor renders a reaction twice: with the event as it came, and with the event's strings
 * neutralised (every character that is targeting syntax in any target type replaced by `_`). A
 * character that is targeting syntax for the target's type and differs between the two renders came
 * from event data: the target is refused. Pure; the caller renders.
 */
import type { TargetType } from "../reaction.js";

/** The placeholder a neutralised string carries instead of targeting syntax. */
export const NEUTRAL_CHAR = "_";

/** Characters that are syntax in some target type or key glob (whitespace separates compound words). */
const ANY_SYNTAX = /[*?[\]!,@:(){}|+^$\\.\s]/g;

const GLOB = "*?[]";
/** Syntax per target type; `key-glob` is the `match` of the wheel's key functions (globs and `,` lists). */
const SYNTAX: Readonly<Record<TargetType | "key-glob", string>> = {
  glob: GLOB,
  list: ",",
  grain: `${GLOB}:`,
  pcre: ".*+?[](){}|^$\\",
  compound: `${GLOB},@:(){}|+^$\\.! \t\n\r\f\v`,
  "key-glob": `${GLOB},`,
};

/** The string with every targeting-syntax character replaced by NEUTRAL_CHAR (same length). */
export function neutraliseString(s: string): string {
  return s.replace(ANY_SYNTAX, NEUTRAL_CHAR);
}

/** A deep copy of event data with every string (keys too) neutralised. */
export function neutraliseData(v: unknown): unknown {
  if (typeof v === "string") return neutraliseString(v);
  if (Array.isArray(v)) return v.map(neutraliseData);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[neutraliseString(k)] = neutraliseData(x);
    return out;
  }
  return v;
}

/** True when `tgt` holds any syntax of `type` (only then can it have widened). */
export function hasTargetSyntax(tgt: string | readonly string[], type: TargetType | "key-glob"): boolean {
  const syntax = SYNTAX[type];
  return [...joined(tgt)].some((c) => syntax.includes(c));
}

/**
 * The targeting syntax that event data put into a target: `real` rendered from the event, `neutral`
 * from the neutralised event. Undefined when every syntax character of `real` is the author's.
 */
export function widenedSyntax(real: string | readonly string[], neutral: string | readonly string[] | undefined, type: TargetType | "key-glob"): string | undefined {
  const syntax = SYNTAX[type];
  const r = joined(real);
  const n = neutral === undefined ? undefined : joined(neutral);
  const count = (s: string) => [...s].filter((c) => syntax.includes(c)).length;
  if (n === undefined) return count(r) > 0 ? `the target could not be traced to the reaction's text` : undefined;
  if (r === n) return undefined;
  if (r.length === n.length) {
    for (let i = 0; i < r.length; i++) {
      const c = r[i]!;
      if (c !== n[i] && syntax.includes(c)) return `${JSON.stringify(c)} at position ${i + 1} comes from event data`;
    }
    return undefined;
  }
  // The event's syntax changed the template's path: refuse when it brought more syntax than the neutral path has.
  return count(r) > count(n) ? `the event data changed the target's syntax (${count(r)} syntax characters where the reaction alone gives ${count(n)})` : undefined;
}

function joined(tgt: string | readonly string[]): string {
  return typeof tgt === "string" ? tgt : tgt.join(",");
}
