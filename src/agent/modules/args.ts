/**
 * Argument binding with Python's rules, so a function is called as Salt would call it: positional
 * arguments fill parameters in order, keyword arguments by name, `__pub_*` style keys are ignored,
 * and missing or extra arguments fail with a clear message.
 */
import { ModuleArgumentError } from "../../core/errors.js";
import type { ModuleContext, ModuleFunction } from "./types.js";

/** A function's parameters: names in order; those with an entry in `defaults` are optional. */
export interface Signature {
  readonly params: readonly string[];
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Accepts extra positional arguments (`*args`). */
  readonly varargs?: boolean;
  /** Accepts extra keyword arguments (`**kwargs`). */
  readonly varkw?: boolean;
}

/** Bound arguments with typed getters that fail with ModuleArgumentError. */
export class Bound {
  constructor(
    readonly fun: string,
    readonly values: Readonly<Record<string, unknown>>,
    readonly extraArgs: readonly unknown[],
    readonly extraKwargs: Readonly<Record<string, unknown>>,
  ) {}

  raw(name: string): unknown {
    return this.values[name];
  }
  str(name: string): string {
    const v = this.values[name];
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    throw this.bad(name, "a string", v);
  }
  optStr(name: string): string | undefined {
    const v = this.values[name];
    return v === undefined || v === null ? undefined : this.str(name);
  }
  bool(name: string): boolean {
    const v = this.values[name];
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "True") return true;
    if (v === "false" || v === "False") return false;
    throw this.bad(name, "a boolean", v);
  }
  num(name: string): number {
    const v = this.values[name];
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n === "number" && Number.isFinite(n)) return n;
    throw this.bad(name, "a number", v);
  }
  optNum(name: string): number | undefined {
    const v = this.values[name];
    return v === undefined || v === null ? undefined : this.num(name);
  }
  private bad(name: string, what: string, v: unknown): ModuleArgumentError {
    return new ModuleArgumentError(
      this.fun,
      `argument '${name}' must be ${what}, got ${JSON.stringify(v) ?? String(v)}`,
    );
  }
}

/** Binds (args, kwargs) to a signature. Throws ModuleArgumentError naming the function. */
export function bind(
  fun: string,
  sig: Signature,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): Bound {
  const values: Record<string, unknown> = {};
  const { params } = sig;
  if (args.length > params.length && !sig.varargs) {
    const n = params.length;
    throw new ModuleArgumentError(
      fun,
      `takes ${n} positional argument${n === 1 ? "" : "s"} but ${args.length} were given`,
    );
  }
  params.forEach((p, i) => {
    if (i < args.length) values[p] = args[i];
  });
  const extraKwargs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k.startsWith("__")) continue;
    if (params.includes(k)) {
      if (k in values) throw new ModuleArgumentError(fun, `got multiple values for argument '${k}'`);
      values[k] = v;
    } else if (sig.varkw) extraKwargs[k] = v;
    else throw new ModuleArgumentError(fun, `got an unexpected keyword argument '${k}'`);
  }
  const missing = params.filter((p) => !(p in values) && !(sig.defaults && p in sig.defaults));
  if (missing.length) {
    throw new ModuleArgumentError(
      fun,
      `missing required argument${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")}`,
    );
  }
  for (const [k, v] of Object.entries(sig.defaults ?? {})) if (!(k in values)) values[k] = v;
  return new Bound(fun, values, args.slice(params.length), extraKwargs);
}

/** Makes a ModuleFunction from a signature and an implementation over bound arguments. */
export function define(
  fun: string,
  sig: Signature,
  impl: (a: Bound, ctx: ModuleContext) => Promise<unknown> | unknown,
): ModuleFunction {
  return async (args, kwargs, ctx) => impl(bind(fun, sig, args, kwargs), ctx);
}
