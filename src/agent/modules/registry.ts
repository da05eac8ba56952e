/** The table of execution functions by `module.function` name; the composition root adds more. */
import { ExecutionError } from "../../core/errors.js";
import type { ModuleFunction, ModuleFunctions } from "./types.js";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Execution functions by module. `add("beacons", {list, add, ...})` registers `beacons.list`, ... */
export class ModuleRegistry {
  private readonly modules = new Map<string, Map<string, ModuleFunction>>();

  /** Adds (or, with `replace`, overrides) the functions of a module. Throws on a clash or a bad name. */
  add(module: string, functions: ModuleFunctions, opts: { replace?: boolean } = {}): this {
    if (!NAME_RE.test(module)) throw new ExecutionError(`invalid module name ${JSON.stringify(module)}`);
    const table = this.modules.get(module) ?? new Map<string, ModuleFunction>();
    for (const [name, fn] of Object.entries(functions)) {
      if (!NAME_RE.test(name))
        throw new ExecutionError(`invalid function name ${JSON.stringify(`${module}.${name}`)}`);
      if (typeof fn !== "function") throw new ExecutionError(`${module}.${name} is not a function`);
      if (table.has(name) && !opts.replace)
        throw new ExecutionError(`${module}.${name} is already registered`);
    }
    for (const [name, fn] of Object.entries(functions)) table.set(name, fn);
    this.modules.set(module, table);
    return this;
  }

  /** The function named `module.function`, if any. */
  get(fun: string): ModuleFunction | undefined {
    const dot = fun.indexOf(".");
    if (dot <= 0) return undefined;
    return this.modules.get(fun.slice(0, dot))?.get(fun.slice(dot + 1));
  }

  /** Every `module.function`, sorted. */
  list(): string[] {
    const out: string[] = [];
    for (const [m, table] of this.modules) for (const f of table.keys()) out.push(`${m}.${f}`);
    return out.sort();
  }
}
