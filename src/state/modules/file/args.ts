/** Argument helpers shared by the file states (types checked, errors naming the field). */
import { StateArgumentError } from "../../../core/errors.js";
import { isAbsolute } from "node:path";
import type { StateArgs } from "../../types.js";

export function str(fun: string, a: StateArgs, field: string): string | undefined {
  const v = a[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new StateArgumentError(fun, field, `must be a string, got ${JSON.stringify(v)}`);
}

export function bool(fun: string, a: StateArgs, field: string, def: boolean): boolean {
  const v = a[field];
  if (v === undefined || v === null) return def;
  if (typeof v === "boolean") return v;
  if (v === "True" || v === "true") return true;
  if (v === "False" || v === "false") return false;
  throw new StateArgumentError(fun, field, `must be True or False, got ${JSON.stringify(v)}`);
}

export function strList(fun: string, a: StateArgs, field: string): string[] | undefined {
  const v = a[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new StateArgumentError(fun, field, `must be a string or a list of strings, got ${JSON.stringify(v)}`);
}

/** `name` as an absolute path (Salt: "Specified file x is not an absolute path"). */
export function absPath(a: StateArgs): string | { fail: string } {
  const name = String(a.name);
  if (!isAbsolute(name)) return { fail: `Specified file ${name} is not an absolute path` };
  return name;
}
