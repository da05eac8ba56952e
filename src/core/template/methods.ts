/**
 * The whitelisted Python methods of template values: dict `.get/.items/.keys/.values`, str
 * `.startswith/.endswith/.split/.strip/.lower/.upper/.replace/.format/.join/...`, list `.index/.count`,
 * and the mutating `dict.update/setdefault/pop` and `list.append/extend/insert/pop/remove`.
 * Nothing else can be called on a value.
 */
import { BoundMethod, EvalError, isMapping, ownValue, pyEq, setOwn, str, typeName } from "./values.js";

type Kw = Readonly<Record<string, unknown>>;
type Method<T> = (self: T, args: readonly unknown[], kw: Kw) => unknown;

const DICT = new Map<string, Method<Record<string, unknown>>>([
  ["get", (d, [k, dflt = null]) => (typeof k === "string" || typeof k === "number" ? (ownValue(d, String(k)) ?? dflt) : dflt)],
  ["items", (d) => Object.keys(d).map((k) => [k, d[k]])],
  ["keys", (d) => Object.keys(d)],
  ["values", (d) => Object.keys(d).map((k) => d[k])],
  // Mutating methods, as Jinja's (non-immutable) sandbox allows: formulas build maps with `do`.
  [
    "update",
    (d, [other], kw) => {
      for (const src of [other ?? {}, kw]) {
        if (!isMapping(src)) throw new EvalError(`dict.update() needs a mapping, not '${typeName(src)}'`);
        for (const k of Object.keys(src)) setOwn(d, k, src[k]);
      }
      return null;
    },
  ],
  [
    "setdefault",
    (d, [k, dflt = null]) => {
      const key = String(k);
      if (!Object.hasOwn(d, key)) setOwn(d, key, dflt);
      return d[key];
    },
  ],
  [
    "pop",
    (d, [k, ...dflt]) => {
      const key = String(k);
      if (!Object.hasOwn(d, key)) {
        if (dflt.length) return dflt[0];
        throw new EvalError(`KeyError: ${str(k)}`);
      }
      const v = d[key];
      delete d[key];
      return v;
    },
  ],
  ["copy", (d) => ({ ...d })],
]);

const STR = new Map<string, Method<string>>([
  ["startswith", (s, [p]) => anyOf(p, (x) => s.startsWith(x))],
  ["endswith", (s, [p]) => anyOf(p, (x) => s.endsWith(x))],
  ["split", (s, args, kw) => split(s, arg(args, kw, 0, "sep", null), arg(args, kw, 1, "maxsplit", -1))],
  ["strip", (s, [chars]) => stripChars(s, chars, true, true)],
  ["lstrip", (s, [chars]) => stripChars(s, chars, true, false)],
  ["rstrip", (s, [chars]) => stripChars(s, chars, false, true)],
  ["lower", (s) => s.toLowerCase()],
  ["upper", (s) => s.toUpperCase()],
  ["title", (s) => s.replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())],
  ["capitalize", (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()],
  ["replace", (s, [a, b, count]) => replace(s, needStr(a, "replace"), needStr(b, "replace"), typeof count === "number" ? count : -1)],
  ["format", (s, args, kw) => format(s, args, kw)],
  ["join", (s, [items]) => joinItems(items, s)],
  ["find", (s, [sub]) => s.indexOf(needStr(sub, "find"))],
  ["count", (s, [sub]) => s.split(needStr(sub, "count")).length - 1],
  ["isdigit", (s) => /^\d+$/.test(s)],
  ["isalpha", (s) => /^\p{L}+$/u.test(s)],
]);

const LIST = new Map<string, Method<unknown[]>>([
  [
    "index",
    (l, [x]) => {
      const i = l.findIndex((y) => pyEq(x, y));
      if (i === -1) throw new EvalError(`${str(x)} is not in list`);
      return i;
    },
  ],
  ["count", (l, [x]) => l.filter((y) => pyEq(x, y)).length],
  [
    "append",
    (l, [x]) => {
      l.push(x);
      return null;
    },
  ],
  [
    "extend",
    (l, [xs]) => {
      if (!Array.isArray(xs)) throw new EvalError(`list.extend() needs a list, not '${typeName(xs)}'`);
      l.push(...(xs as unknown[]));
      return null;
    },
  ],
  [
    "insert",
    (l, [i, x]) => {
      l.splice(Number(i), 0, x);
      return null;
    },
  ],
  [
    "pop",
    (l, [i]) => {
      if (!l.length) throw new EvalError("pop from empty list");
      return i === undefined ? l.pop() : l.splice(Number(i), 1)[0];
    },
  ],
  [
    "remove",
    (l, [x]) => {
      const i = l.findIndex((y) => pyEq(x, y));
      if (i === -1) throw new EvalError("list.remove(x): x not in list");
      l.splice(i, 1);
      return null;
    },
  ],
  ["copy", (l) => [...l]],
]);

/** The bound method `name` of `self`, or undefined when the value has no such method. */
export function methodOf(self: unknown, name: string): BoundMethod | undefined {
  const table = typeof self === "string" ? STR : Array.isArray(self) ? LIST : isMapping(self) ? DICT : undefined;
  const fn = table?.get(name);
  return fn ? new BoundMethod(self, name, fn as BoundMethod["fn"]) : undefined;
}

/** Joins items with a separator, each item as str(). */
export function joinItems(items: unknown, sep: string): string {
  if (!Array.isArray(items)) throw new EvalError(`can only join a list, not '${typeName(items)}'`);
  return items.map(str).join(sep);
}

function arg(args: readonly unknown[], kw: Kw, i: number, name: string, dflt: unknown): unknown {
  if (args.length > i) return args[i];
  return Object.hasOwn(kw, name) ? kw[name] : dflt;
}

function needStr(v: unknown, method: string): string {
  if (typeof v !== "string") throw new EvalError(`${method}() argument must be str, not '${typeName(v)}'`);
  return v;
}

function anyOf(p: unknown, f: (x: string) => boolean): boolean {
  return Array.isArray(p) ? p.some((x) => f(needStr(x, "startswith"))) : f(needStr(p, "startswith"));
}

function split(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = typeof maxsplit === "number" ? maxsplit : -1;
  if (sep === null) {
    const parts: string[] = [];
    let rest = s.replace(/^\s+/, "");
    while (rest && (max < 0 || parts.length < max)) {
      const m = /\s+/.exec(rest);
      if (!m) break;
      parts.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    if (max >= 0 && parts.length >= max) return rest ? [...parts, rest] : parts;
    rest = rest.replace(/\s+$/, "");
    return rest ? [...parts, rest] : parts;
  }
  const d = needStr(sep, "split");
  if (!d) throw new EvalError("empty separator");
  const all = s.split(d);
  return max < 0 || all.length <= max + 1 ? all : [...all.slice(0, max), all.slice(max).join(d)];
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
  const set = new Set(needStr(chars, "strip"));
  let a = 0;
  let b = s.length;
  while (left && a < b && set.has(s[a]!)) a++;
  while (right && b > a && set.has(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function replace(s: string, a: string, b: string, count: number): string {
  if (count < 0) return s.split(a).join(b);
  const parts = s.split(a);
  return parts.slice(0, count + 1).join(b) + (parts.length > count + 1 ? a + parts.slice(count + 1).join(a) : "");
}

/** `'{} {0} {name}'.format(...)`: positional, numbered and named fields; no format specs. */
function format(s: string, args: readonly unknown[], kw: Kw): string {
  let auto = 0;
  return s.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === "{{") return "{";
    if (m === "}}") return "}";
    const f = field ?? "";
    if (f.includes(":") || f.includes("!")) throw new EvalError(`format specs are not supported: '{${f}}'`);
    if (f === "") return str(pick(args, auto++));
    if (/^\d+$/.test(f)) return str(pick(args, Number(f)));
    if (!Object.hasOwn(kw, f)) throw new EvalError(`format() has no argument '${f}'`);
    return str(kw[f]);
  });
}

function pick(args: readonly unknown[], i: number): unknown {
  if (i >= args.length) throw new EvalError(`format() has no argument ${i}`);
  return args[i];
}
