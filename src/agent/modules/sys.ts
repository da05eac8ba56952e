/** `sys.list_functions` and `sys.list_modules`. */
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** The `sys` module. */
export const sysModule: ModuleFunctions = {
  list_functions: define("sys.list_functions", { params: [], varargs: true }, (a, ctx) => {
    const all = ctx.listFunctions();
    if (a.extraArgs.length === 0) return all;
    const globs = a.extraArgs.map((m) =>
      globToRegExp(String(m).includes(".") ? String(m) : `${String(m)}.*`),
    );
    return all.filter((f) => globs.some((g) => g.test(f)));
  }),
  list_modules: define("sys.list_modules", { params: [] }, (_a, ctx) => [
    ...new Set(ctx.listFunctions().map((f) => f.split(".")[0]!)),
  ]),
};

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
}
