/**
 * Python-like semantics for template values (strings, numbers, booleans, null, lists, plain
 * objects), and the safe attribute and item access: only own properties of plain objects, never
 * `__proto__`, `constructor` or `prototype`, never a prototype's functions.
 */
import { pyRepr } from "./pyrepr.js";

/** A value that does not exist (Salt's StrictUndefined): any use but `is defined` / `default` fails. */
export class Undef {
  constructor(
    readonly hint: string,
    readonly line: number,
  ) {}
}

/** A whitelisted method bound to its receiver, e.g. `data.get`. */
export class BoundMethod {
  constructor(
    readonly self: unknown,
    readonly name: string,
    readonly fn: (self: never, args: readonly unknown[], kw: Readonly<Record<string, unknown>>) => unknown,
  ) {}
}

/** A failure while evaluating; the renderer adds file and line. */
/**
 * Thrown by a context function or a loader that needs async work first (the state renderer's
 * suspend-and-replay: it awaits `pending` and renders again). Render rethrows it unwrapped.
 */
export class TemplateSuspend extends Error {
  constructor(readonly pending: Promise<unknown>) {
    super("template render suspended for async work");
  }
}

/** Marks the trailing object of a call's arguments as its keyword arguments (`f(a, k=1)` -> `f(a, {k: 1})`). */
export const KWARGS: unique symbol = Symbol("kwargs");

/** True when `v` is the keyword-argument object of a call. */
export function isKwargs(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && (v as { [KWARGS]?: boolean })[KWARGS] === true;
}

export class EvalError extends Error {
  constructor(
    reason: string,
    readonly line?: number,
  ) {
    super(reason);
  }
}

const BLOCKED = new Set(["__proto__", "constructor", "prototype"]);

/** A plain object: a JSON-like mapping (prototype Object.prototype or null). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads an own, non-blocked property, or undefined. */
export function ownValue(obj: object, key: string): unknown {
  if (BLOCKED.has(key) || !Object.hasOwn(obj, key)) return undefined;
  return (obj as Record<string, unknown>)[key];
}

/** Sets a property safely (a `__proto__` key becomes an own property, not the prototype). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Python's type name of a value, for error messages. */
export function typeName(v: unknown): string {
  if (v === null) return "NoneType";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  if (typeof v === "function" || v instanceof BoundMethod) return "function";
  if (isMapping(v)) return "dict";
  return "object";
}

/** Python's str(): None, True/False, Python's numbers, strings as they are, lists and dicts as repr(). */
export function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Undef) throw new EvalError(v.hint, v.line);
  if (typeof v === "function" || v instanceof BoundMethod) throw new EvalError("a function cannot be output; did you forget to call it?");
  return pyRepr(v);
}

/** Python truthiness. */
export function truthy(v: unknown, line: number): boolean {
  if (v instanceof Undef) throw new EvalError(v.hint, v.line);
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  void line;
  return true;
}

/** Python `==` (deep for lists and dicts; True == 1). */
export function pyEq(a: unknown, b: unknown): boolean {
  if (typeof a === "boolean" && typeof b === "number") return Number(a) === b;
  if (typeof b === "boolean" && typeof a === "number") return a === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  return a === b;
}

/** Python ordering: numbers (and bools), strings, lists; -1, 0 or 1. */
export function pyCompare(a: unknown, b: unknown, op: string): number {
  const na = typeof a === "boolean" ? Number(a) : a;
  const nb = typeof b === "boolean" ? Number(b) : b;
  if ((typeof na === "number" && typeof nb === "number") || (typeof na === "string" && typeof nb === "string")) {
    return na < nb ? -1 : na > nb ? 1 : 0;
  }
  if (Array.isArray(na) && Array.isArray(nb)) {
    for (let i = 0; i < Math.min(na.length, nb.length); i++) {
      if (!pyEq(na[i], nb[i])) return pyCompare(na[i], nb[i], op);
    }
    return Math.sign(na.length - nb.length);
  }
  throw new EvalError(`'${op}' not supported between '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python `in`: substring, list member, dict key. */
export function pyIn(item: unknown, container: unknown): boolean {
  if (typeof container === "string") {
    if (typeof item !== "string") throw new EvalError(`'in <string>' requires a string as left operand, not '${typeName(item)}'`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(item, x));
  if (isMapping(container)) return (typeof item === "string" || typeof item === "number") && ownValue(container, String(item)) !== undefined;
  throw new EvalError(`argument of type '${typeName(container)}' is not iterable`);
}

/** The items a for loop visits: list items, string characters, dict keys. */
export function iterate(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return Array.from(v);
  if (isMapping(v)) return Object.keys(v);
  throw new EvalError(`'${typeName(v)}' object is not iterable`);
}

/** `obj[key]` with Python's negative indexes; undefined when absent. */
export function itemOf(obj: unknown, key: unknown): unknown {
  if (Array.isArray(obj) || typeof obj === "string") {
    if (typeof key !== "number" || !Number.isInteger(key)) return undefined;
    const i = key < 0 ? obj.length + key : key;
    return i >= 0 && i < obj.length ? obj[i] : undefined;
  }
  if (obj !== null && typeof obj === "object" && !(obj instanceof BoundMethod) && (typeof key === "string" || typeof key === "number")) {
    return ownValue(obj, String(key));
  }
  return undefined;
}

/** A Python slice `obj[start:stop:step]` of a list or string. */
export function sliceOf(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (!Array.isArray(obj) && typeof obj !== "string") throw new EvalError(`'${typeName(obj)}' object is not subscriptable`);
  const n = obj.length;
  const st = step === null || step === undefined ? 1 : toInt(step);
  if (st === 0) throw new EvalError("slice step cannot be zero");
  const norm = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    const i = toInt(v);
    return i < 0 ? Math.max(i + n, st < 0 ? -1 : 0) : Math.min(i, st < 0 ? n - 1 : n);
  };
  const from = norm(start, st > 0 ? 0 : n - 1);
  const to = norm(stop, st > 0 ? n : -1);
  const picked: unknown[] = [];
  for (let i = from; st > 0 ? i < to : i > to; i += st) picked.push(obj[i]);
  return typeof obj === "string" ? picked.join("") : picked;
}

function toInt(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new EvalError(`slice indices must be integers or None, not '${typeName(v)}'`);
  return v;
}
