/**
 * The `salt` dict of state templates (Salt's `__salt__` in Jinja): `salt['mod.fun'](...)` calls an
 * execution function through the ExecCaller (suspend and replay), except the pure lookups Salt
 * users call most, answered here without a round trip: grains.get/item/items/filter_by,
 * pillar.get/item/items/raw, config.get.
 */
import { isKwargs } from "../core/template/index.js";
import { globToRegExp } from "./fnmatch.js";
import type { CallCache } from "./replay.js";
import type { ExecCaller } from "./types.js";

type Dict = Readonly<Record<string, unknown>>;
type Fn = (...args: unknown[]) => unknown;

const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;

/** What the `salt` dict reads. */
export interface SaltDictSources {
  readonly grains: Dict;
  readonly pillar: Dict;
  readonly opts: Dict;
  readonly exec: ExecCaller;
  readonly cache: CallCache;
}

/** `args` of a template call split into positional and keyword arguments. */
export function splitCall(args: readonly unknown[]): { args: unknown[]; kwargs: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (isKwargs(last)) return { args: args.slice(0, -1), kwargs: { ...last } };
  return { args: [...args], kwargs: {} };
}

/** Salt's traverse_dict_and_list with `:` as the delimiter. */
export function traverse(data: unknown, key: string, fallback: unknown, delimiter = ":"): unknown {
  let cur = data;
  for (const part of String(key).split(delimiter)) {
    if (Array.isArray(cur)) {
      const i = Number(part);
      if (Number.isInteger(i) && i >= -cur.length && i < cur.length) cur = cur[i < 0 ? cur.length + i : i];
      else return fallback;
    } else if (cur !== null && typeof cur === "object" && Object.hasOwn(cur, part)) {
      cur = (cur as Dict)[part];
    } else return fallback;
  }
  return cur;
}

/** Salt's dictupdate.update (recursive merge of mappings; the right side wins). */
export function deepMerge(dest: unknown, upd: unknown, mergeLists = false): unknown {
  if (!isPlain(dest) || !isPlain(upd)) {
    if (mergeLists && Array.isArray(dest) && Array.isArray(upd))
      return [...dest, ...upd.filter((x) => !dest.includes(x))];
    return upd;
  }
  const out: Record<string, unknown> = { ...dest };
  for (const [k, v] of Object.entries(upd)) out[k] = k in out ? deepMerge(out[k], v, mergeLists) : v;
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Salt's salt.utils.data.filter_by over `data` (grains or pillar). */
export function filterBy(data: Dict, a: readonly unknown[]): unknown {
  const { args, kwargs } = splitCall(a);
  const names = ["lookup_dict", "grain", "merge", "default", "base"];
  const p: Record<string, unknown> = { grain: "os_family", merge: null, default: "default", base: null };
  args.forEach((v, i) => (p[names[i] ?? `_${i}`] = v));
  Object.assign(p, kwargs);
  const lookup = (p.lookup_dict ?? {}) as Dict;
  const val = traverse(data, String(p.grain), []);
  let ret: unknown = null;
  for (const each of Array.isArray(val) ? val : [val]) {
    const text = typeof each === "string" ? each : pyStrScalar(each);
    const key = Object.keys(lookup).find((k) => globToRegExp(k).test(text));
    if (key !== undefined) {
      ret = lookup[key];
      break;
    }
  }
  if (ret === null || ret === undefined) ret = lookup[String(p.default)] ?? null;
  if (p.base !== null && p.base !== undefined && Object.hasOwn(lookup, String(p.base))) {
    const base = lookup[String(p.base)];
    if (ret === null) ret = base;
    else if (isPlain(base)) ret = deepMerge(base, ret);
  }
  if (isPlain(p.merge)) ret = ret === null ? p.merge : deepMerge(ret, p.merge);
  return ret;
}

function pyStrScalar(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return String(v);
}

function lookupFn(data: Dict): Fn {
  return (...a) => {
    const { args, kwargs } = splitCall(a);
    const key = String(args[0] ?? kwargs.key ?? "");
    const fallback = args[1] ?? kwargs.default ?? "";
    const delimiter = String(kwargs.delimiter ?? ":");
    return traverse(data, key, fallback, delimiter);
  };
}

/** The local functions: pure lookups over grains, pillar and opts. */
function localFunctions(s: SaltDictSources): Record<string, Fn> {
  const item =
    (data: Dict) =>
    (...a: unknown[]) => {
      const { args } = splitCall(a);
      const out: Record<string, unknown> = {};
      for (const k of args) out[String(k)] = traverse(data, String(k), "");
      return out;
    };
  const config = (...a: unknown[]) => {
    const { args, kwargs } = splitCall(a);
    const key = String(args[0] ?? kwargs.key ?? "");
    const fallback = args[1] ?? kwargs.default ?? "";
    const missing = Symbol("missing");
    for (const src of [s.opts, s.grains, s.pillar]) {
      const v = traverse(src, key, missing);
      if (v !== missing) return v;
    }
    return fallback;
  };
  return {
    "grains.get": lookupFn(s.grains),
    "grains.item": item(s.grains),
    "grains.items": () => s.grains,
    "grains.filter_by": (...a) => filterBy(s.grains, a),
    "pillar.get": lookupFn(s.pillar),
    "pillar.item": item(s.pillar),
    "pillar.items": () => s.pillar,
    "pillar.raw": () => s.pillar,
    "pillar.filter_by": (...a) => filterBy(s.pillar, a),
    "config.get": config,
  };
}

/**
 * The `salt` mapping: any `module.function` name is a function (a Proxy, since the agent's
 * functions are not listed here); unknown functions fail when called, with the agent's error.
 */
export function saltDict(s: SaltDictSources): Record<string, unknown> {
  const local = localFunctions(s);
  const fns = new Map<string, Fn>();
  const fnFor = (name: string): Fn => {
    let f = fns.get(name);
    if (!f) {
      f =
        local[name] ??
        ((...a: unknown[]) => {
          const { args, kwargs } = splitCall(a);
          return s.cache.get(`${name}${JSON.stringify([args, kwargs])}`, () => s.exec(name, args, kwargs));
        });
      fns.set(name, f);
    }
    return f;
  };
  const target = Object.create(null) as Record<string, unknown>;
  return new Proxy(target, {
    get: (_t, key) => (typeof key === "string" && FUNCTION_NAME.test(key) ? fnFor(key) : undefined),
    has: (_t, key) => typeof key === "string" && FUNCTION_NAME.test(key),
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === "string" && FUNCTION_NAME.test(key)
        ? { value: fnFor(key), enumerable: true, configurable: true, writable: false }
        : undefined,
    ownKeys: () => Object.keys(local),
  });
}
