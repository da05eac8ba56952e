/** Evaluates expressions against a scope: names, attribute and item access, calls, filters, operators. */
import type { Args, BinOp, CmpOp, Expr } from "./ast.js";
import { runFilter, UNDEFINED_OK } from "./filters.js";
import { methodOf } from "./methods.js";
import { runTest } from "./tests.js";
import { BoundMethod, EvalError, isMapping, KWARGS, TemplateSuspend, itemOf, ownValue, pyCompare, pyEq, pyIn, setOwn, sliceOf, str, truthy, typeName, Undef } from "./values.js";

/** Variables of one block level; lookups fall back to the parent, then the render context. */
export class Scope {
  readonly vars = new Map<string, unknown>();
  constructor(
    readonly parent: Scope | null,
    readonly context: Readonly<Record<string, unknown>>,
  ) {}

  /** The value of `name`, or undefined. */
  lookup(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    if (this.parent) return this.parent.lookup(name);
    const v = ownValue(this.context, name);
    return v === undefined ? GLOBALS.get(name) : v;
  }
}

const MAX_RANGE = 100_000;
const GLOBALS = new Map<string, unknown>([
  ["range", new BoundMethod(null, "range", (_self, args) => range(args))],
  ["dict", new BoundMethod(null, "dict", (_self, _args, kw) => ({ ...kw }))],
]);

function range(args: readonly unknown[]): number[] {
  if (!args.every((a) => typeof a === "number" && Number.isInteger(a))) throw new EvalError("range() needs integers");
  const [a, b, step = 1] = args as number[];
  const [from, to] = b === undefined ? [0, a ?? 0] : [a ?? 0, b];
  if (step === 0) throw new EvalError("range() step must not be zero");
  const n = Math.max(0, Math.ceil((to - from) / step));
  if (n > MAX_RANGE) throw new EvalError(`range() of ${n} items is over the limit of ${MAX_RANGE}`);
  return Array.from({ length: n }, (_, i) => from + i * step);
}

/** A value that must be defined: an Undef here is the StrictUndefined error. */
export function need(v: unknown): unknown {
  if (v instanceof Undef) throw new EvalError(v.hint, v.line);
  return v;
}

/** Evaluates `e` in `scope`. May return an Undef (for `is defined`, `default`, ...). */
export function evaluate(e: Expr, scope: Scope): unknown {
  switch (e.k) {
    case "lit":
      return e.value;
    case "name": {
      const v = scope.lookup(e.name);
      return v === undefined ? new Undef(`'${e.name}' is undefined`, e.line) : v;
    }
    case "list":
      return e.items.map((x) => need(evaluate(x, scope)));
    case "dict": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of e.pairs) setOwn(out, str(need(evaluate(k, scope))), need(evaluate(v, scope)));
      return out;
    }
    case "attr":
      return attribute(e, need(evaluate(e.obj, scope)));
    case "item":
      return item(e, need(evaluate(e.obj, scope)), need(evaluate(e.key, scope)));
    case "slice": {
      const [a, b, c] = e.parts.map((p) => (p ? need(evaluate(p, scope)) : null));
      return at(e.line, () => sliceOf(need(evaluate(e.obj, scope)), a, b, c));
    }
    case "call":
      return call(e, scope);
    case "filter":
      return filter(e, scope);
    case "test": {
      const v = evaluate(e.value, scope);
      const [args, kw] = evalArgs(e.args, scope);
      if (v instanceof Undef && e.name !== "defined" && e.name !== "undefined") need(v);
      return at(e.line, () => runTest(e.name, v, args, kw) !== e.negated);
    }
    case "unary":
      return unary(e.op, need(evaluate(e.value, scope)), e.line);
    case "bin":
      return at(e.line, () => binary(e.op, need(evaluate(e.left, scope)), need(evaluate(e.right, scope))));
    case "and": {
      const l = need(evaluate(e.left, scope));
      return truthy(l, e.line) ? need(evaluate(e.right, scope)) : l;
    }
    case "or": {
      const l = need(evaluate(e.left, scope));
      return truthy(l, e.line) ? l : need(evaluate(e.right, scope));
    }
    case "cmp":
      return compare(e, scope);
    case "cond":
      if (truthy(need(evaluate(e.test, scope)), e.line)) return evaluate(e.then, scope);
      // Jinja2 gives a plain (not strict) Undefined here, which prints as an empty string.
      return e.otherwise ? evaluate(e.otherwise, scope) : "";
  }
}

/** Runs `f`, giving an EvalError without a line the line `line`. */
export function at<T>(line: number, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EvalError && err.line === undefined) throw new EvalError(err.message, line);
    throw err;
  }
}

/** How an expression reads in an error message: `data`, `data.ids`, `data['id']`. */
function describe(e: Expr): string {
  if (e.k === "name") return e.name;
  if (e.k === "attr") return `${describe(e.obj)}.${e.name}`;
  if (e.k === "item" && e.key.k === "lit") return `${describe(e.obj)}[${JSON.stringify(e.key.value)}]`;
  return "value";
}

function attribute(e: Extract<Expr, { k: "attr" }>, obj: unknown): unknown {
  const m = methodOf(obj, e.name);
  if (m) return m;
  const v = isMapping(obj) ? itemOf(obj, e.name) : undefined;
  return v === undefined ? new Undef(`'${describe(e.obj)}' has no attribute '${e.name}'`, e.line) : v;
}

function item(e: Extract<Expr, { k: "item" }>, obj: unknown, key: unknown): unknown {
  if (obj === null || (typeof obj !== "object" && typeof obj !== "string") || obj instanceof BoundMethod) {
    throw new EvalError(`'${describe(e.obj)}' (${typeName(obj)}) is not subscriptable`, e.line);
  }
  const v = itemOf(obj, key);
  if (v !== undefined) return v;
  if (isMapping(obj) && typeof key === "string") return methodOf(obj, key) ?? new Undef(`'${describe(e.obj)}' has no attribute '${key}'`, e.line);
  return new Undef(`'${describe(e.obj)}' has no item ${JSON.stringify(key)}`, e.line);
}

function evalArgs(a: Args, scope: Scope): [unknown[], Record<string, unknown>] {
  const args = a.pos.map((x) => need(evaluate(x, scope)));
  const kw: Record<string, unknown> = {};
  for (const [k, v] of a.kw) setOwn(kw, k, need(evaluate(v, scope)));
  return [args, kw];
}

function call(e: Extract<Expr, { k: "call" }>, scope: Scope): unknown {
  const fn = need(evaluate(e.fn, scope));
  const [args, kw] = evalArgs(e.args, scope);
  if (fn instanceof BoundMethod) return at(e.line, () => fn.fn(fn.self as never, args, kw));
  if (typeof fn !== "function") throw new EvalError(`'${describe(e.fn)}' is not callable`, e.line);
  if (Object.keys(kw).length) Object.defineProperty(kw, KWARGS, { value: true });
  const full = Object.keys(kw).length ? [...args, kw] : args;
  try {
    return (fn as (...a: unknown[]) => unknown)(...full) ?? null;
  } catch (err) {
    if (err instanceof EvalError || err instanceof TemplateSuspend) throw err;
    throw new EvalError(`${describe(e.fn)}() failed: ${err instanceof Error ? err.message : String(err)}`, e.line);
  }
}

function filter(e: Extract<Expr, { k: "filter" }>, scope: Scope): unknown {
  const v = evaluate(e.value, scope);
  if (!UNDEFINED_OK.has(e.name)) need(v);
  const [args, kw] = evalArgs(e.args, scope);
  return at(e.line, () => runFilter(e.name, v, args, kw));
}

function unary(op: "not" | "-" | "+", v: unknown, line: number): unknown {
  if (op === "not") return !truthy(v, line);
  const n = typeof v === "boolean" ? Number(v) : v;
  if (typeof n !== "number") throw new EvalError(`bad operand type for unary ${op}: '${typeName(v)}'`, line);
  return op === "-" ? -n : n;
}

function compare(e: Extract<Expr, { k: "cmp" }>, scope: Scope): boolean {
  let left = need(evaluate(e.first, scope));
  for (const [op, re] of e.rest) {
    const right = need(evaluate(re, scope));
    if (!at(e.line, () => compareOne(op, left, right))) return false;
    left = right;
  }
  return true;
}

function compareOne(op: CmpOp, a: unknown, b: unknown): boolean {
  switch (op) {
    case "==":
      return pyEq(a, b);
    case "!=":
      return !pyEq(a, b);
    case "in":
      return pyIn(a, b);
    case "not in":
      return !pyIn(a, b);
    case "<":
      return pyCompare(a, b, op) < 0;
    case ">":
      return pyCompare(a, b, op) > 0;
    case "<=":
      return pyCompare(a, b, op) <= 0;
    case ">=":
      return pyCompare(a, b, op) >= 0;
  }
}

function binary(op: BinOp, a: unknown, b: unknown): unknown {
  if (op === "~") return str(a) + str(b);
  if (op === "+" && typeof a === "string" && typeof b === "string") return a + b;
  if (op === "+" && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (op === "*" && (typeof a === "string" || Array.isArray(a)) && typeof b === "number") return repeat(a, b);
  if (op === "%" && typeof a === "string") return percentFormat(a, b);
  const x = typeof a === "boolean" ? Number(a) : a;
  const y = typeof b === "boolean" ? Number(b) : b;
  if (typeof x !== "number" || typeof y !== "number") throw new EvalError(`unsupported operand types for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  if ((op === "/" || op === "//" || op === "%") && y === 0) throw new EvalError("division by zero");
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      return x / y;
    case "//":
      return Math.floor(x / y);
    case "%":
      return x - y * Math.floor(x / y);
    case "**":
      return x ** y;
  }
}

function repeat(a: string | unknown[], n: number): string | unknown[] {
  const times = Math.max(0, Math.trunc(n));
  if (a.length * times > MAX_RANGE * 10) throw new EvalError("repetition result is too large");
  return typeof a === "string" ? a.repeat(times) : Array.from({ length: times }, () => a).flat();
}

function percentFormat(fmt: string, arg: unknown): string {
  const args = Array.isArray(arg) ? [...arg] : [arg];
  const out = fmt.replace(/%([sdrf%])/g, (_m, c: string) => {
    if (c === "%") return "%";
    if (!args.length) throw new EvalError("not enough arguments for format string");
    const v = args.shift();
    return c === "d" ? String(Math.trunc(Number(v))) : str(v);
  });
  if (args.length) throw new EvalError("not all arguments converted during string formatting");
  return out;
}
