/**
 * Salt's grain and grain-PCRE matching (`salt.utils.data.subdict_match`): an expression
 * `a:b:c:value` is split at every `:` in turn into a nested key path and a value pattern, and
 * matches when any split matches. Values are compared case-insensitively, with fnmatch globs
 * (`G@`) or a regular expression anchored at the start (`P@`, as Python's `re.match`). A list
 * value matches when any element matches; a map value matches when the pattern names one of its
 * keys (or is `*`), or matches further down.
 */
import { fnmatchToRegExpSource } from "../glob/index.js";
import { isMap } from "../shape.js";

/** How a value is compared: a compiled pattern over the lower-cased string form. */
export type ValueTest = (value: string) => boolean;

/** Compiles a grain value glob (case-insensitive fnmatch). */
export function grainGlobTest(pattern: string): ValueTest {
  const re = new RegExp(fnmatchToRegExpSource(pattern.toLowerCase()), "su");
  return (v) => re.test(v.toLowerCase());
}

/** Compiles a grain value regex (case-insensitive, anchored at the start); throws SyntaxError. */
export function grainRegexTest(pattern: string): ValueTest {
  const re = compilePythonRegex(pattern, "iu");
  return (v) => re.test(v);
}

/** A Python `re.match` pattern as an anchored RegExp: `(?P<n>` and `(?P=n)` are rewritten. */
export function compilePythonRegex(pattern: string, flags = "u"): RegExp {
  const js = pattern.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
  return new RegExp(`^(?:${js})`, flags);
}

/** The split of `a:b:value` into the key path and value patterns to try, longest key last. */
function splits(expr: string, delimiter: string): { path: string[]; pattern: string }[] {
  const parts = expr.split(delimiter);
  const out: { path: string[]; pattern: string }[] = [];
  for (let i = 1; i < parts.length; i++) {
    out.push({ path: parts.slice(0, i), pattern: parts.slice(i).join(delimiter) });
  }
  return out;
}

/**
 * A matcher of grain expressions: `key:value` (nested `a:b:value`). An expression without a
 * delimiter matches nothing, as in Salt.
 */
export function compileGrainMatcher(
  expr: string,
  compile: (pattern: string) => ValueTest,
  delimiter = ":",
): (grains: Readonly<Record<string, unknown>>) => boolean {
  const candidates = splits(expr, delimiter).map((s) => ({ path: s.path, pattern: s.pattern, test: compile(s.pattern) }));
  return (grains) =>
    candidates.some((c) => {
      const found = traverse(grains, c.path);
      return found.found && matchValue(found.value, c.pattern, c.test, compile, delimiter);
    });
}

/** Follows a key path through maps (and numeric indexes of lists, as Salt's traverse_dict_and_list). */
function traverse(data: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  let cur: unknown = data;
  for (const key of path) {
    if (Array.isArray(cur)) {
      const idx = /^\d+$/.test(key) ? Number(key) : NaN;
      if (!(idx < cur.length)) return { found: false };
      cur = cur[idx];
    } else if (isMap(cur) && Object.prototype.hasOwnProperty.call(cur, key)) {
      cur = cur[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

function matchValue(
  value: unknown,
  pattern: string,
  test: ValueTest,
  compile: (pattern: string) => ValueTest,
  delimiter: string,
): boolean {
  if (Array.isArray(value)) return value.some((v) => matchValue(v, pattern, test, compile, delimiter));
  if (isMap(value)) {
    if (pattern === "*" || Object.prototype.hasOwnProperty.call(value, pattern)) return true;
    return compileGrainMatcher(pattern, compile, delimiter)(value);
  }
  return test(pythonStr(value));
}

/** Python's `str()` of a JSON scalar, which Salt's matchers compare against. */
function pythonStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return String(v);
}

