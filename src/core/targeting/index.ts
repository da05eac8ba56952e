/**
 * Salt targeting over known minions (agents): `glob` (fnmatch on ids, case-sensitive), `pcre`
 * (Python `re.match` on ids: anchored at the start only), `list` (comma string or array of ids),
 * `grain` (`key:glob`, nested `a:b:glob`, case-insensitive, list grains match any element) and
 * `compound` (`and`/`or`/`not`/parentheses over `G@`, `P@`, `E@`, `L@` and bare globs).
 * Pure: the caller supplies the minions.
 */
import { compileTagGlob } from "../glob/index.js";
import { TargetSyntaxError, errorMessage } from "../errors.js";
import type { TargetType } from "../reaction.js";
import { compileGrainMatcher, compilePythonRegex, grainGlobTest, grainRegexTest } from "./grain.js";
import { formatTargetNode, parseCompound, type TargetLeaf, type TargetNode } from "./compound.js";

export { parseCompound, formatTargetNode } from "./compound.js";
export type { TargetNode, TargetLeaf } from "./compound.js";
export { compileGrainMatcher, compilePythonRegex } from "./grain.js";

/** What targeting knows of a minion: its id and grains. */
export interface MinionRecord {
  readonly id: string;
  readonly grains: Readonly<Record<string, unknown>>;
}

/** A compiled target: a test over one minion. */
export interface TargetMatcher {
  readonly tgt: string | readonly string[];
  readonly tgtType: TargetType;
  test(minion: MinionRecord): boolean;
}

/** Compiles a target once; throws TargetSyntaxError on a bad compound expression or regex. */
export function compileTarget(tgt: string | readonly string[], tgtType: TargetType = "glob"): TargetMatcher {
  const test = compileTest(tgt, tgtType);
  return { tgt, tgtType, test };
}

/** The ids of the minions that a target selects, sorted. */
export function matchTargets(tgt: string | readonly string[], tgtType: TargetType, minions: readonly MinionRecord[]): string[] {
  const m = compileTarget(tgt, tgtType);
  return minions
    .filter((x) => m.test(x))
    .map((x) => x.id)
    .sort();
}

/** A one-line description of a target, e.g. `compound (G@os:Debian and (not web*))`. */
export function describeTarget(tgt: string | readonly string[], tgtType: TargetType = "glob"): string {
  if (tgtType === "compound") return `compound ${formatTargetNode(parseCompound(joinTarget(tgt)))}`;
  if (tgtType === "list") return `list ${listOf(tgt).join(",")}`;
  return `${tgtType} ${joinTarget(tgt)}`;
}

function compileTest(tgt: string | readonly string[], tgtType: TargetType): (m: MinionRecord) => boolean {
  switch (tgtType) {
    case "list": {
      const ids = new Set(listOf(tgt));
      return (m) => ids.has(m.id);
    }
    case "compound":
      return compileNode(parseCompound(joinTarget(tgt)), joinTarget(tgt));
    case "glob":
      return idGlob(joinTarget(tgt));
    case "pcre":
      return idRegex(joinTarget(tgt), joinTarget(tgt), 1);
    case "grain": {
      const match = compileGrainMatcher(joinTarget(tgt), grainGlobTest);
      return (m) => match(m.grains);
    }
  }
}

function compileNode(node: TargetNode, expr: string): (m: MinionRecord) => boolean {
  switch (node.kind) {
    case "leaf":
      return compileLeaf(node, expr);
    case "not": {
      const inner = compileNode(node.operand, expr);
      return (m) => !inner(m);
    }
    case "and": {
      const [l, r] = [compileNode(node.left, expr), compileNode(node.right, expr)];
      return (m) => l(m) && r(m);
    }
    case "or": {
      const [l, r] = [compileNode(node.left, expr), compileNode(node.right, expr)];
      return (m) => l(m) || r(m);
    }
  }
}

function compileLeaf(leaf: TargetLeaf, expr: string): (m: MinionRecord) => boolean {
  switch (leaf.engine) {
    case "glob":
      return idGlob(leaf.pattern);
    case "E":
      return idRegex(leaf.pattern, expr, leaf.position + 2);
    case "L": {
      const ids = new Set(listOf(leaf.pattern));
      return (m) => ids.has(m.id);
    }
    case "G":
    case "P": {
      const compile = leaf.engine === "G" ? grainGlobTest : grainRegexTest;
      const match = wrapRegexErrors(() => compileGrainMatcher(leaf.pattern, compile), expr, leaf.position + 2);
      return (m) => match(m.grains);
    }
  }
}

function idGlob(pattern: string): (m: MinionRecord) => boolean {
  const g = compileTagGlob(pattern, "fnmatch");
  return (m) => g.test(m.id);
}

function idRegex(pattern: string, expr: string, position: number): (m: MinionRecord) => boolean {
  const re = wrapRegexErrors(() => compilePythonRegex(pattern), expr, position);
  return (m) => re.test(m.id);
}

function wrapRegexErrors<T>(make: () => T, expr: string, position: number): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof SyntaxError) throw new TargetSyntaxError(expr, position, `bad regular expression: ${errorMessage(err)}`);
    throw err;
  }
}

function joinTarget(tgt: string | readonly string[]): string {
  return typeof tgt === "string" ? tgt : tgt.join(",");
}

function listOf(tgt: string | readonly string[]): string[] {
  const items = typeof tgt === "string" ? tgt.split(",") : [...tgt];
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}
export { NEUTRAL_CHAR, neutraliseString, neutraliseData, hasTargetSyntax, widenedSyntax } from "./widening.js";
