/** `file.*`: touch, exists, file_exists, directory_exists, get_hash, remove, read, write. Absolute paths only. */
import { constants } from "node:fs";
import { createHash } from "node:crypto";
import { access, lstat, open, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { ExecutionError, ModuleArgumentError, errorMessage } from "../../core/errors.js";
import { define, type Bound } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** The `file` module. */
export const fileModule: ModuleFunctions = {
  touch: define(
    "file.touch",
    { params: ["name", "atime", "mtime"], defaults: { atime: null, mtime: null } },
    async (a) => {
      const path = pathArg(a, "name");
      await io(a, path, async () => {
        await (await open(path, "a")).close();
        const now = Date.now() / 1000;
        const atime = a.optNum("atime") ?? now;
        await utimes(path, atime, a.optNum("mtime") ?? atime);
      });
      return true;
    },
  ),
  exists: define("file.exists", { params: ["path"] }, async (a) => {
    const path = pathArg(a, "path");
    return access(path, constants.F_OK).then(
      () => true,
      () => false,
    );
  }),
  file_exists: define("file.file_exists", { params: ["path"] }, async (a) => (await stat(pathArg(a, "path")).catch(() => undefined))?.isFile() === true),
  directory_exists: define("file.directory_exists", { params: ["path"] }, async (a) => (await stat(pathArg(a, "path")).catch(() => undefined))?.isDirectory() === true),
  get_hash: define("file.get_hash", { params: ["path", "form"], defaults: { form: "sha256" } }, async (a) => {
    const path = pathArg(a, "path");
    const form = a.str("form");
    if (!["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].includes(form)) throw new ModuleArgumentError("file.get_hash", `form must be md5, sha1, sha224, sha256, sha384 or sha512, got ${JSON.stringify(form)}`);
    return createHash(form).update(await io(a, path, () => readFile(path))).digest("hex");
  }),
  remove: define("file.remove", { params: ["path"] }, async (a) => {
    const path = pathArg(a, "path");
    const st = await lstat(path).catch(() => undefined);
    if (!st) return false;
    await io(a, path, () => rm(path, { recursive: st.isDirectory(), force: false }));
    return true;
  }),
  read: define("file.read", { params: ["path", "binary"], defaults: { binary: false } }, async (a) => {
    const path = pathArg(a, "path");
    const buf = await io(a, path, () => readFile(path));
    return a.bool("binary") ? buf.toString("base64") : buf.toString("utf8");
  }),
  write: define("file.write", { params: ["path"], varargs: true }, async (a) => {
    const path = pathArg(a, "path");
    const lines = a.extraArgs.map(String);
    await io(a, path, () => writeFile(path, lines.map((l) => `${l}\n`).join("")));
    return `Wrote ${lines.length} lines to "${path}"`;
  }),
};

/** A path argument: a string without NUL bytes, absolute. */
function pathArg(a: Bound, name: string): string {
  const path = a.str(name);
  if (path.includes("\0"))
    throw new ModuleArgumentError(a.fun, `File path must not contain NUL bytes: ${JSON.stringify(path)}`);
  if (!isAbsolute(path)) throw new ModuleArgumentError(a.fun, `File path must be absolute: ${path}`);
  return path;
}

async function io<T>(a: Bound, path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new ExecutionError(`${a.fun}: ${path}: ${errorMessage(err)}`, { cause: err });
  }
}
