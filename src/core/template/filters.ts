/**
 * The filters of `{{ value | name(args) }}`: Jinja's common ones and Salt's (`json`, `yaml`,
 * `regex_*`, `quote`). Only these can be applied; nothing else is callable from a template.
 */
import { MORE_FILTERS } from "./filters-more.js";
import { joinItems } from "./methods.js";
import { pyReplacement, pyRegex, reFlags, reMatch } from "./regex.js";
import { runTest } from "./tests.js";
import { EvalError, isMapping, itemOf, iterate, pyCompare, pyEq, str, typeName, Undef } from "./values.js";

type Kw = Readonly<Record<string, unknown>>;
/** A filter: value, positional and keyword arguments. Only `default`/`d` ever see an Undef. */
export type FilterFn = (v: unknown, args: readonly unknown[], kw: Kw) => unknown;

/** Filters whose output the OutputHook receives as structured data when they come last. */
export const SERIALISING_FILTERS: ReadonlyMap<string, "json" | "yaml"> = new Map([
  ["json", "json"],
  ["tojson", "json"],
  ["yaml", "yaml"],
]);

/** Filters that accept an undefined value. */
export const UNDEFINED_OK = new Set(["default", "d"]);

/** The filters, by name. */
export const FILTERS: ReadonlyMap<string, FilterFn> = new Map<string, FilterFn>([
  ["json", (v) => toJson(v)],
  ["tojson", (v) => toJson(v)],
  ["yaml", (v) => toJson(v)],
  ["default", defaultFilter],
  ["d", defaultFilter],
  ["lower", (v) => str(v).toLowerCase()],
  ["upper", (v) => str(v).toUpperCase()],
  ["capitalize", (v) => str(v).charAt(0).toUpperCase() + str(v).slice(1).toLowerCase()],
  ["trim", (v) => str(v).trim()],
  ["string", (v) => str(v)],
  ["replace", (v, [a, b, n]) => replaceFilter(str(v), str(a), str(b), typeof n === "number" ? n : -1)],
  ["join", (v, [sep = ""], kw) => joinItems(attrs(iterate(v), kw.attribute), str(sep))],
  ["length", (v) => iterate(v).length],
  ["count", (v) => iterate(v).length],
  ["first", (v) => firstOrLast(v, 0)],
  ["last", (v) => firstOrLast(v, -1)],
  ["list", (v) => [...iterate(v)]],
  ["int", (v, [dflt = 0]) => toNumber(v, dflt, true)],
  ["float", (v, [dflt = 0]) => toNumber(v, dflt, false)],
  ["bool", (v) => toBool(v)],
  ["to_bool", (v) => toBool(v)],
  ["abs", (v) => Math.abs(needNumber(v, "abs"))],
  ["round", (v, [p = 0]) => Number(needNumber(v, "round").toFixed(Number(p)))],
  ["unique", (v) => iterate(v).filter((x, i, all) => all.findIndex((y) => pyEq(x, y)) === i)],
  ["sort", (v, args, kw) => sortItems(iterate(v), kw.reverse === true || args[0] === true, kw.attribute)],
  ["dictsort", (v, [, by = "key"], kw) => dictsort(v, kw.by ?? by, kw.reverse === true)],
  ["min", (v) => sortItems(iterate(v), false, undefined)[0] ?? null],
  ["max", (v) => sortItems(iterate(v), true, undefined)[0] ?? null],
  ["sum", (v) => iterate(v).reduce((a: number, b) => a + needNumber(b, "sum"), 0)],
  ["map", mapFilter],
  ["select", (v, [t, ...a]) => iterate(v).filter((x) => selects(x, t, a))],
  ["reject", (v, [t, ...a]) => iterate(v).filter((x) => !selects(x, t, a))],
  ["selectattr", (v, [at, t, ...a]) => iterate(v).filter((x) => selects(itemOf(x, at) ?? new Undef("", 0), t, a))],
  ["rejectattr", (v, [at, t, ...a]) => iterate(v).filter((x) => !selects(itemOf(x, at) ?? new Undef("", 0), t, a))],
  ["regex_match", (v, [re], kw) => groups(reMatch(pyRegex(re, reFlags(kw)), str(v)))],
  ["regex_search", (v, [re], kw) => groups(pyRegex(re, reFlags(kw)).exec(str(v)))],
  ["regex_replace", (v, [re, repl = ""], kw) => str(v).replace(pyRegex(re, reFlags(kw, "g")), pyReplacement(str(repl)))],
  ["quote", (v) => shellQuote(str(v))],
  ...MORE_FILTERS,
]);

/** Applies filter `name`; unknown names are errors. */
export function runFilter(name: string, v: unknown, args: readonly unknown[], kw: Kw): unknown {
  const fn = FILTERS.get(name);
  if (!fn) throw new EvalError(`no filter named '${name}'`);
  return fn(v, args, kw);
}

/** JSON text of a value (what `json`/`tojson` produce inside larger expressions). */
export function toJson(v: unknown): string {
  return JSON.stringify(v) ?? "null";
}

function defaultFilter(v: unknown, [dflt = "", boolean = false]: readonly unknown[], kw: Kw): unknown {
  const useBool = kw.boolean === true || boolean === true;
  if (v instanceof Undef) return dflt;
  if (useBool && (v === null || v === false || v === 0 || v === "" || (Array.isArray(v) && !v.length) || (isMapping(v) && !Object.keys(v).length))) return dflt;
  return v;
}

function replaceFilter(s: string, a: string, b: string, count: number): string {
  if (count < 0) return s.split(a).join(b);
  const parts = s.split(a);
  return parts.slice(0, count + 1).join(b) + (parts.length > count + 1 ? a + parts.slice(count + 1).join(a) : "");
}

function attrs(items: readonly unknown[], attribute: unknown): readonly unknown[] {
  if (attribute === undefined || attribute === null) return items;
  return items.map((x) => itemOf(x, attribute) ?? null);
}

function firstOrLast(v: unknown, at: number): unknown {
  const items = iterate(v);
  return (at < 0 ? items[items.length - 1] : items[0]) ?? new Undef(`'${typeName(v)}' is empty: no ${at < 0 ? "last" : "first"} item`, 0);
}

function toNumber(v: unknown, dflt: unknown, int: boolean): unknown {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "boolean") n = Number(v);
  else if (typeof v === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) n = Number(v);
  else return dflt;
  return int ? Math.trunc(n) : n;
}

function toBool(v: unknown): boolean {
  if (typeof v === "string") return ["true", "yes", "on", "1", "y"].includes(v.trim().toLowerCase());
  if (typeof v === "number") return v > 0;
  return v === true;
}

function needNumber(v: unknown, f: string): number {
  if (typeof v !== "number") throw new EvalError(`${f} needs a number, not '${typeName(v)}'`);
  return v;
}

function sortItems(items: readonly unknown[], reverse: boolean, attribute: unknown): unknown[] {
  const keyOf = (x: unknown): unknown => {
    const k = attribute === undefined || attribute === null ? x : itemOf(x, attribute);
    return typeof k === "string" ? k.toLowerCase() : k;
  };
  const sorted = [...items].sort((a, b) => pyCompare(keyOf(a), keyOf(b), "<"));
  return reverse ? sorted.reverse() : sorted;
}

function dictsort(v: unknown, by: unknown, reverse: boolean): unknown[] {
  if (!isMapping(v)) throw new EvalError(`dictsort needs a dict, not '${typeName(v)}'`);
  const pairs = Object.keys(v).map((k) => [k, v[k]]);
  const i = by === "value" ? 1 : 0;
  return sortItems(pairs, reverse, i);
}

function mapFilter(v: unknown, args: readonly unknown[], kw: Kw): unknown[] {
  const items = iterate(v);
  if (kw.attribute !== undefined) return items.map((x) => itemOf(x, kw.attribute) ?? (Object.hasOwn(kw, "default") ? kw.default : null));
  const [name, ...rest] = args;
  if (typeof name !== "string") throw new EvalError("map needs a filter name or attribute=");
  return items.map((x) => runFilter(name, x, rest, {}));
}

function selects(x: unknown, test: unknown, args: readonly unknown[]): boolean {
  if (test === undefined) return !(x instanceof Undef) && !!x && !(Array.isArray(x) && !x.length);
  if (typeof test !== "string") throw new EvalError("select needs a test name");
  if (x instanceof Undef && test !== "defined" && test !== "undefined") return false;
  return runTest(test, x, args, {});
}

function groups(m: RegExpExecArray | null): unknown {
  return m ? m.slice(1).map((g) => g ?? null) : null;
}

/** Python's shlex.quote. */
export function shellQuote(s: string): string {
  if (s === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
