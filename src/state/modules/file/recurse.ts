/**
 * file.recurse (a `salt://` directory mirrored into `name`, each file as file.managed would,
 * `clean` removing what the source does not have) and file.copy (a local file copied once, or
 * again with `force`), as salt/states/file.py.
 */
import { copyFile, lstat, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { saltPath } from "../../../core/salt-url.js";
import { checkApply, type Check } from "../check-apply.js";
import type { StateArgs, StateContext, StateReturn } from "../../types.js";
import { absPath, bool } from "./args.js";
import { managed } from "./managed.js";

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

export async function recurse(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const target = absPath(a);
  if (typeof target !== "string") return { result: false, changes: {}, comment: target.fail };
  const source = typeof a.source === "string" ? a.source : "";
  if (!source.startsWith("salt://"))
    return { result: false, changes: {}, comment: "file.recurse needs a salt:// source directory" };
  const prefix = `${saltPath(source).replace(/\/$/, "")}/`;
  const files = (await ctx.files.list(ctx.saltenv)).filter((p) => p.startsWith(prefix));
  if (!files.length)
    return {
      result: false,
      changes: {},
      comment: `The directory '${source}' does not exist on the salt fileserver in saltenv '${ctx.saltenv}'`,
    };
  const changes: Record<string, unknown> = {};
  const comments: string[] = [];
  let failed = false;
  for (const file of files) {
    const rel = file.slice(prefix.length);
    const r = await managed(
      {
        name: join(target, rel),
        source: `salt://${file}`,
        makedirs: true,
        ...(a.file_mode !== undefined ? { mode: a.file_mode } : {}),
        ...(a.dir_mode !== undefined ? { dir_mode: a.dir_mode } : {}),
        ...(a.user !== undefined ? { user: a.user } : {}),
        ...(a.group !== undefined ? { group: a.group } : {}),
        ...(a.template !== undefined
          ? { template: a.template, context: a.context ?? {}, defaults: a.defaults ?? {} }
          : {}),
      },
      ctx,
    );
    if (r.result === false) {
      failed = true;
      comments.push(r.comment);
    }
    if (Object.keys(r.changes).length) changes[join(target, rel)] = r.changes;
  }
  if (bool("file.recurse", a, "clean", false)) {
    const keep = new Set(files.map((f) => join(target, f.slice(prefix.length))));
    for (const p of await walk(target)) {
      if (keep.has(p)) continue;
      if (!ctx.test) await rm(p, { force: true });
      changes[p] = { removed: p };
    }
  }
  if (failed) return { result: false, changes, comment: comments.join("\n") };
  if (!Object.keys(changes).length)
    return { result: true, changes: {}, comment: `The directory ${target} is in the correct state` };
  if (ctx.test) return { result: null, changes, comment: `Recursively updating ${target}` };
  return { result: true, changes, comment: `Recursively updated ${target}` };
}

export const copy = checkApply<{
  path: string | { fail: string };
  source: string;
  force: boolean;
  makedirs: boolean;
}>({
  parse: (a) => ({
    path: absPath(a),
    source: String(a.source ?? ""),
    force: bool("file.copy", a, "force", false),
    makedirs: bool("file.copy", a, "makedirs", false),
  }),
  async check({ path, source, force, makedirs }, ctx): Promise<Check> {
    if (typeof path !== "string") return { kind: "fail", comment: path.fail };
    if (!(await lstat(source).catch(() => undefined)))
      return { kind: "fail", comment: `Source file "${source}" is not present` };
    if ((await lstat(path).catch(() => undefined)) && !force)
      return { kind: "ok", comment: `The target file "${path}" exists and will not be overwritten` };
    if (!makedirs && !(await lstat(dirname(path)).catch(() => undefined)))
      return { kind: "fail", comment: `The target directory ${dirname(path)} is not present` };
    return {
      kind: "change",
      changes: { [path]: source },
      comment: ctx.test ? `File "${source}" is set to be copied to "${path}"` : "",
    };
  },
  async apply({ path, source }, found) {
    await mkdir(dirname(path as string), { recursive: true });
    await copyFile(source, path as string);
    return { result: true, changes: found.changes, comment: `Copied "${source}" to "${path as string}"` };
  },
});
