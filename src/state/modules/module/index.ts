/**
 * `module.run` (salt/states/module.py): calls execution functions from a state. Both syntaxes as
 * Salt 3006 tells them apart: the new one (`- network.ip_addrs: [ {interface: eth0} ]`, several
 * functions, each value a list of arguments and one-key maps of keyword arguments) when every key
 * names a function, else the legacy one (`- name: mod.fun` and the function's arguments as keys,
 * `m_name`-style for names the state itself uses). mod_watch runs it again.
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

const IGNORED = new Set(["name", "__reqs__", "sfun"]);
const LEGACY_RESERVED = new Set(["name", "__reqs__", "sfun", "returner"]);

/** salt.utils.functools.call_function's split: dicts are keyword arguments, the rest positional. */
function split(list: unknown): { args: unknown[]; kwargs: Record<string, unknown> } {
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  for (const item of Array.isArray(list) ? list : list === null || list === undefined ? [] : [list]) {
    if (item !== null && typeof item === "object" && !Array.isArray(item)) Object.assign(kwargs, item);
    else args.push(item);
  }
  return { args, kwargs };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Salt's _get_result: a retcode in a dict, a bool, or a nested `result: False` fails it. */
function resultOf(ret: unknown): boolean {
  if (isMap(ret) && "retcode" in ret) return ret.retcode === 0;
  if (typeof ret === "boolean") return ret;
  if (isMap(ret)) {
    if (typeof ret.result === "boolean") return ret.result;
    const walk = (n: Record<string, unknown>): boolean =>
      Object.entries(n).every(([k, v]) => !(k === "result" && v === false) && (!isMap(v) || walk(v)));
    return walk(ret);
  }
  return true;
}

const unavailable = (err: unknown) => /is not available/.test(String((err as Error)?.message ?? err));

async function newStyle(fns: string[], a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  if (ctx.test)
    return {
      result: null,
      changes: {},
      comment: `Function${fns.length > 1 ? "s" : ""} ${fns.join(", ")} to be executed.`,
      name: fns.join(", "),
    };
  const failures: string[] = [];
  const success: string[] = [];
  const changes: Record<string, unknown> = {};
  for (const key of fns) {
    const fun = key.split(":")[0]!;
    const { args, kwargs } = split(a[key]);
    try {
      const ret = await ctx.exec(fun, args, kwargs);
      if (!resultOf(ret))
        failures.push(
          isMap(ret)
            ? `'${key}' failed: ${String(ret.comment ?? "(error message N/A)")}`
            : `'${key}': ${String(ret)}`,
        );
      else {
        success.push(
          `${key}: ${isMap(ret) ? String(ret.comment ?? "Success") : typeof ret === "string" ? ret : JSON.stringify(ret)}`,
        );
        changes[key] = ret;
      }
    } catch (err) {
      failures.push(
        unavailable(err) ? `Unavailable function: ${fun}.` : `'${key}' failed: ${(err as Error).message}`,
      );
    }
  }
  return { result: failures.length === 0, changes, comment: [...failures, ...success].join(", ") };
}

async function legacy(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const fun = a.name;
  if (ctx.test) return { result: null, changes: {}, comment: `Module function ${fun} is set to execute` };
  const kwargs: Record<string, unknown> = {};
  let args: unknown[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (LEGACY_RESERVED.has(k)) continue;
    if (k === "args" || k === "m_args") args = Array.isArray(v) ? v : [v];
    else if (k === "kwargs" && isMap(v)) Object.assign(kwargs, v);
    else kwargs[k.startsWith("m_") ? k.slice(2) : k] = v;
  }
  let ret: unknown;
  try {
    ret = await ctx.exec(fun, args, kwargs);
  } catch (err) {
    if (unavailable(err))
      return { result: false, changes: {}, comment: `Module function ${fun} is not available` };
    return {
      result: false,
      changes: {},
      comment: `Module function ${fun} threw an exception. Exception: ${(err as Error).message}`,
    };
  }
  const changes = ret !== null && ret !== undefined ? { ret } : {};
  return { result: resultOf(ret), changes, comment: `Module function ${fun} executed` };
}

async function run(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const keys = Object.keys(a).filter((k) => !IGNORED.has(k));
  const isLegacy = keys.some((k) => !k.includes(".")) || keys.length === 0;
  return isLegacy ? legacy(a, ctx) : newStyle(keys, a, ctx);
}

export const moduleStates: StateModule = { name: "module", functions: { run, wait: run }, modWatch: run };
