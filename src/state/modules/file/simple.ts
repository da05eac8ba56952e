/** file.directory, absent, touch, exists, missing, symlink (salt/states/file.py), as CheckApply. */
import { lstat, mkdir, readlink, rm, symlink as mkSymlink, utimes, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { checkApply, type Check } from "../check-apply.js";
import { absPath, bool, str } from "./args.js";
import { applyPerms, parseMode, permChanges, type Perms } from "./perms.js";

const exists = (p: string) =>
  lstat(p).then(
    (s) => s,
    () => undefined,
  );
type Path = string | { fail: string };

function perms(fun: string, a: Record<string, unknown>, modeField = "mode"): Perms {
  const user = str(fun, a as never, "user");
  const group = str(fun, a as never, "group");
  const mode = parseMode(fun, modeField, a[modeField]);
  return { ...(user ? { user } : {}), ...(group ? { group } : {}), ...(mode ? { mode } : {}) };
}

export const directory = checkApply<{ path: Path; perms: Perms; makedirs: boolean }>({
  parse: (a) => ({
    path: absPath(a),
    perms: perms("file.directory", a, "dir_mode" in a ? "dir_mode" : "mode"),
    makedirs: bool("file.directory", a, "makedirs", false),
  }),
  async check({ path, perms: p, makedirs }, ctx): Promise<Check> {
    if (typeof path !== "string") return { kind: "fail", comment: path.fail };
    const st = await exists(path);
    if (st && !st.isDirectory())
      return { kind: "fail", comment: `Specified location ${path} exists and is a file` };
    if (!st) {
      if (!makedirs && !(await exists(dirname(path))))
        return { kind: "fail", comment: `No directory to create ${path} in` };
      return {
        kind: "change",
        changes: { [path]: "New Dir" },
        comment: ctx.test ? `The following files will be changed:\n${path}: directory - new` : "",
      };
    }
    const changes = await permChanges(path, p);
    if (!Object.keys(changes).length)
      return { kind: "ok", comment: `The directory ${path} is in the correct state` };
    return {
      kind: "change",
      changes: { [path]: changes },
      comment: ctx.test
        ? `The following files will be changed:\n${path}: ${Object.keys(changes).join(", ")}`
        : "",
    };
  },
  async apply({ path, perms: p }, found) {
    const dir = path as string;
    if (!(await exists(dir))) await mkdir(dir, { recursive: true });
    const changed = await applyPerms(dir, p);
    const isNew = found.changes[dir] === "New Dir";
    return {
      result: true,
      changes: isNew ? { [dir]: "New Dir" } : Object.keys(changed).length ? { [dir]: changed } : {},
      comment: `Directory ${dir} updated`,
    };
  },
});

export const absent = checkApply<{ path: Path }>({
  parse: (a) => ({ path: absPath(a) }),
  async check({ path }, ctx): Promise<Check> {
    if (typeof path !== "string") return { kind: "fail", comment: path.fail };
    if (path === "/") return { kind: "fail", comment: 'Refusing to make "/" absent' };
    const st = await exists(path);
    if (!st) return { kind: "ok", comment: `File ${path} is not present` };
    const what = st.isDirectory() ? "Directory" : "File";
    return {
      kind: "change",
      changes: { removed: path },
      comment: ctx.test ? `${what} ${path} is set for removal` : `Removed ${what.toLowerCase()} ${path}`,
    };
  },
  async apply({ path }, found) {
    await rm(path as string, { recursive: true, force: true });
    return { result: true, changes: found.changes, comment: found.comment };
  },
});

export const touch = checkApply<{ path: Path; makedirs: boolean }>({
  parse: (a) => ({ path: absPath(a), makedirs: bool("file.touch", a, "makedirs", false) }),
  async check({ path, makedirs }, ctx): Promise<Check> {
    if (typeof path !== "string") return { kind: "fail", comment: path.fail };
    const st = await exists(path);
    if (!st && !makedirs && !(await exists(dirname(path))))
      return { kind: "fail", comment: `Directory not present to touch file ${path}` };
    return {
      kind: "change",
      changes: st ? { touched: path } : { new: path },
      comment: ctx.test ? `File ${path} is set to be ${st ? "touched" : "created"}` : "",
    };
  },
  async apply({ path }, found) {
    const p = path as string;
    await mkdir(dirname(p), { recursive: true });
    if (found.changes.new !== undefined) await writeFile(p, "", { flag: "a" });
    const now = new Date();
    await utimes(p, now, now);
    return {
      result: true,
      changes: found.changes,
      comment: found.changes.new !== undefined ? `Created empty file ${p}` : `Updated times on file ${p}`,
    };
  },
});

/** file.exists / file.missing: checks only; they never change anything. */
export const existsState = checkApply<{ path: string }>({
  parse: (a) => ({ path: String(a.name) }),
  check: async ({ path }) =>
    (await exists(path))
      ? { kind: "ok", comment: `Path ${path} exists` }
      : { kind: "fail", comment: `Specified path ${path} does not exist` },
  apply: () => Promise.reject(new Error("file.exists never changes anything")),
});

export const missing = checkApply<{ path: string }>({
  parse: (a) => ({ path: String(a.name) }),
  check: async ({ path }) =>
    (await exists(path))
      ? { kind: "fail", comment: `Specified path ${path} exists` }
      : { kind: "ok", comment: `Path ${path} is missing` },
  apply: () => Promise.reject(new Error("file.missing never changes anything")),
});

export const symlink = checkApply<{ path: Path; target: string; force: boolean; makedirs: boolean }>({
  parse: (a) => ({
    path: absPath(a),
    target: String(a.target ?? ""),
    force: bool("file.symlink", a, "force", false),
    makedirs: bool("file.symlink", a, "makedirs", false),
  }),
  async check({ path, target, force, makedirs }, ctx): Promise<Check> {
    if (typeof path !== "string") return { kind: "fail", comment: path.fail };
    if (!target) return { kind: "fail", comment: "file.symlink needs a target" };
    const st = await exists(path);
    if (st?.isSymbolicLink() && (await readlink(path)) === target)
      return { kind: "ok", comment: `Symlink ${path} is present and owned by ${"root"}` };
    if (st && !st.isSymbolicLink() && !force)
      return { kind: "fail", comment: `File exists where the symlink ${path} should be` };
    if (!st && !makedirs && !(await exists(dirname(path))))
      return { kind: "fail", comment: `Directory ${dirname(path)} for symlink is not present` };
    return {
      kind: "change",
      changes: { new: path },
      comment: ctx.test ? `Symlink ${path} to ${target} is set for creation` : "",
    };
  },
  async apply({ path, target }) {
    const p = path as string;
    await mkdir(dirname(p), { recursive: true });
    await rm(p, { force: true, recursive: true });
    await mkSymlink(target, p);
    return { result: true, changes: { new: p }, comment: `Created new symlink ${p} -> ${target}` };
  },
});
