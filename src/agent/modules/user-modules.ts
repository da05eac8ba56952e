/**
 * User modules: each `.js`/`.mjs` file in `modules_dir` is a module named after the file; its exported
 * functions (not starting with `_`) become `<file>.<function>`, called as `(args, kwargs, ctx)`.
 * A user module overrides a built-in function of the same name, as Salt's custom modules do.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger } from "../../core/ports.js";
import { errorMessage } from "../../core/errors.js";
import type { ModuleRegistry } from "./registry.js";
import type { ModuleFunction } from "./types.js";

/** What loading a modules directory did. */
export interface UserModulesResult {
  /** `module.function` names registered. */
  readonly loaded: string[];
  /** Files that failed to load, with the reason (they are skipped). */
  readonly errors: { file: string; message: string }[];
}

/** Loads every user module in `dir` into `registry`. A missing directory loads nothing. */
export async function loadUserModules(
  registry: ModuleRegistry,
  dir: string,
  logger: Logger,
): Promise<UserModulesResult> {
  const result: UserModulesResult = { loaded: [], errors: [] };
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") result.errors.push({ file: dir, message: errorMessage(err) });
    return [] as string[];
  });
  for (const name of names.filter((n) => [".js", ".mjs"].includes(extname(n))).sort()) {
    const file = join(dir, name);
    try {
      const fns = await importFunctions(file);
      const module = basename(name, extname(name));
      registry.add(module, fns, { replace: true });
      result.loaded.push(...Object.keys(fns).map((f) => `${module}.${f}`));
    } catch (err) {
      logger.error({ file, err }, "cannot load user module");
      result.errors.push({ file, message: errorMessage(err) });
    }
  }
  return result;
}

async function importFunctions(file: string): Promise<Record<string, ModuleFunction>> {
  // The file's mtime in the URL: a changed file is imported again (saltutil.sync_modules), an
  // unchanged one comes from the module cache.
  const { mtimeMs } = await stat(file);
  const mod = (await import(`${pathToFileURL(file).href}?mtime=${mtimeMs}`)) as Record<string, unknown>;
  const out: Record<string, ModuleFunction> = {};
  for (const [name, value] of Object.entries(mod)) {
    if (name === "default" || name.startsWith("_") || typeof value !== "function") continue;
    const fn = value as (...a: unknown[]) => unknown;
    out[name] = async (args, kwargs, ctx) => fn(args, kwargs, ctx);
  }
  return out;
}
