/**
 * `cp.*` (Salt's cp module) over the agent's FileClient: the service's file server, or this host's
 * `file_roots` with `file_client: local`. Missing files answer as Salt does (`""` from get_file,
 * `false` from cache_file and get_file_str, `{}` from hash_file); other failures throw.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import {
  ExecutionError,
  FileServerError,
  ModuleArgumentError,
  saltUrlEnv,
  type FileClient,
} from "../../core/index.js";
import { define, type Bound } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

const files = (a: Bound, ctx: ModuleContext): FileClient => {
  if (!ctx.files)
    throw new ExecutionError(`${a.fun}: this agent has no file client (file server not reachable)`);
  return ctx.files;
};
const env = (a: Bound, path?: string): string =>
  (path !== undefined ? saltUrlEnv(path) : undefined) ?? a.optStr("saltenv") ?? "base";
const isMissing = (err: unknown) =>
  err instanceof FileServerError && /: no such file in saltenv /.test(err.message);

/** `cp.cache_file`: the local path of the cached copy, or false when the file server has none. */
async function cacheFile(a: Bound, ctx: ModuleContext, path: string): Promise<string | false> {
  try {
    return await files(a, ctx).cache(path, env(a, path));
  } catch (err) {
    if (isMissing(err)) {
      ctx.logger.error({ path, saltenv: env(a, path) }, "Unable to cache file");
      return false;
    }
    throw err;
  }
}

const prefixed = (list: string[], prefix: string) =>
  prefix ? list.filter((p) => p.startsWith(prefix)) : list;

/** The `cp` module. */
export const cpModule: ModuleFunctions = {
  get_file: define(
    "cp.get_file",
    {
      params: ["path", "dest", "saltenv", "makedirs", "template", "gzip"],
      defaults: { saltenv: null, makedirs: false, template: null, gzip: null },
      varkw: true,
    },
    async (a, ctx) => {
      const path = a.str("path");
      let dest = a.str("dest");
      if (!isAbsolute(dest)) throw new ModuleArgumentError(a.fun, `dest must be an absolute path: ${dest}`);
      if (a.optStr("template") !== undefined)
        throw new ModuleArgumentError(
          a.fun,
          "template (rendering the path and dest names) is not supported",
        );
      if ((await files(a, ctx).hash(path, env(a, path))) === undefined) return "";
      if (dest.endsWith("/") || (await stat(dest).catch(() => undefined))?.isDirectory())
        dest = join(dest, basename(path.split("?")[0]!));
      if (!(await stat(dirname(dest)).catch(() => undefined))?.isDirectory()) {
        if (!a.bool("makedirs")) return false;
        await mkdir(dirname(dest), { recursive: true });
      }
      const cached = await cacheFile(a, ctx, path);
      if (cached === false) return "";
      await copyFile(cached, dest);
      return dest;
    },
  ),
  cache_file: define(
    "cp.cache_file",
    { params: ["path", "saltenv"], defaults: { saltenv: null }, varkw: true },
    (a, ctx) => cacheFile(a, ctx, a.str("path")),
  ),
  get_file_str: define(
    "cp.get_file_str",
    { params: ["path", "saltenv"], defaults: { saltenv: null } },
    async (a, ctx) => {
      const cached = await cacheFile(a, ctx, a.str("path"));
      return cached === false ? false : readFile(cached, "utf8");
    },
  ),
  hash_file: define(
    "cp.hash_file",
    { params: ["path", "saltenv"], defaults: { saltenv: null } },
    async (a, ctx) => {
      const path = a.str("path");
      if (!path.startsWith("salt://")) {
        if (!isAbsolute(path))
          throw new ModuleArgumentError(a.fun, `path must be salt://... or an absolute local path: ${path}`);
        const data = await readFile(path).catch(() => undefined);
        return data ? { hash_type: "sha256", hsum: createHash("sha256").update(data).digest("hex") } : {};
      }
      return (await files(a, ctx).hash(path, env(a, path))) ?? {};
    },
  ),
  list_master: define(
    "cp.list_master",
    { params: ["saltenv", "prefix"], defaults: { saltenv: null, prefix: "" } },
    async (a, ctx) => prefixed(await files(a, ctx).list(env(a)), a.str("prefix")),
  ),
  list_master_dirs: define(
    "cp.list_master_dirs",
    { params: ["saltenv", "prefix"], defaults: { saltenv: null, prefix: "" } },
    async (a, ctx) => prefixed(await files(a, ctx).listDirs(env(a)), a.str("prefix")),
  ),
  envs: define("cp.envs", { params: [] }, (a, ctx) => files(a, ctx).envs()),
};
