/**
 * Salt's three `mine_functions` forms, as `salt.utils.mine.parse_function` reads them:
 * ```yaml
 * mine_functions:
 *   network.ip_addrs: []                                   # 1. the function, positional args
 *   network.interfaces: { interface: eth0 }                # 2. a map: keyword args
 *   internal_ip: [ {mine_function: network.ip_addrs}, {cidr: 10.0.0.0/8}, {allow_tgt: 'web*'} ]  # 3. alias
 * ```
 * In a list, one-key maps are keyword arguments and anything else positional; in a map every key
 * is a keyword argument. `mine_function` names the function (the key is then an alias);
 * `allow_tgt` / `allow_tgt_type` are the per-function ACL and are not passed to the function.
 */
import type { MineFunctionSpec } from "../config/index.js";
import { isMap } from "../core/index.js";

/** One mine function as the publisher runs it. */
export interface MineCall {
  /** The name it is stored under (the `mine_functions` key). */
  readonly name: string;
  /** The execution function to run, `module.function`. */
  readonly fun: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly allow_tgt?: string | readonly string[];
  readonly allow_tgt_type?: string;
}

const ACL_KEYS = new Set(["allow_tgt", "allow_tgt_type"]);

/** Reads one `mine_functions` entry. */
export function parseMineFunction(name: string, spec: MineFunctionSpec | null | undefined): MineCall {
  const items: readonly unknown[] = spec === null || spec === undefined ? [] : Array.isArray(spec) ? spec : [spec];
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  const acl: { allow_tgt?: string | readonly string[]; allow_tgt_type?: string } = {};
  for (const item of items) {
    if (!isMap(item)) {
      args.push(item);
      continue;
    }
    for (const [k, v] of Object.entries(item)) {
      if (k === "allow_tgt") acl.allow_tgt = v as string | readonly string[];
      else if (k === "allow_tgt_type") acl.allow_tgt_type = String(v);
      else if (!ACL_KEYS.has(k)) kwargs[k] = v;
    }
  }
  const fun = typeof kwargs["mine_function"] === "string" ? kwargs["mine_function"] : name;
  delete kwargs["mine_function"];
  return { name, fun, args, kwargs, ...acl };
}

/** Reads every entry of `mine_functions`, in the file's order. */
export function parseMineFunctions(specs: Readonly<Record<string, MineFunctionSpec>>): MineCall[] {
  return Object.entries(specs).map(([name, spec]) => parseMineFunction(name, spec));
}

