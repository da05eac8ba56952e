/**
 * `file_roots` / `pillar_roots` (Salt's key names and meaning): environment -> directories, the
 * first directory holding a path wins. Relative directories resolve against the config file's
 * folder. Without the key, `{base: [<default dir>]}` when that directory exists, else no roots.
 */
import { statSync } from "node:fs";
import { isMap } from "../core/index.js";
import type { FieldPath } from "./yaml.js";

/** Environment -> directories (absolute), in search order. */
export type Roots = Readonly<Record<string, readonly string[]>>;

/** Salt's defaults. */
export const DEFAULT_FILE_ROOT = "/srv/salt";
export const DEFAULT_PILLAR_ROOT = "/srv/pillar";

/** Compiles a roots map; problems go to `fail` with their field path. */
export function compileRoots(
  raw: unknown,
  path: FieldPath,
  rel: (p: string) => string,
  fail: (path: FieldPath, reason: string) => void,
  defaultDir: string,
): Roots {
  if (raw === undefined || raw === null) return isDir(defaultDir) ? { base: [defaultDir] } : {};
  if (!isMap(raw)) {
    fail(path, "must be a map of environment -> list of directories (`base: [/srv/salt]`)");
    return {};
  }
  const out: Record<string, string[]> = {};
  for (const [env, dirs] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9_-]+$/.test(env)) {
      fail([...path, env], "must be an environment name of letters, digits, '_' or '-'");
      continue;
    }
    const list = typeof dirs === "string" ? [dirs] : dirs;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((d) => typeof d === "string" && d.length > 0)
    ) {
      fail([...path, env], "must be a non-empty list of directories");
      continue;
    }
    out[env] = (list as string[]).map((d) => rel(d).replace(/\/+$/, "") || "/");
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
