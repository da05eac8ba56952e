/**
 * The local file client: `salt://` paths served from `file_roots` on this host's disk (masterless
 * `reactor call --local`, the service itself, tests). The first root of the environment that has
 * the file wins, as Salt's roots fileserver.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { saltFileMissing, saltPath, saltUrlEnv } from "../core/salt-url.js";
import type { FileClient } from "./types.js";

/** `file_roots` as Salt writes it: environment -> directories, first match wins. */
export type FileRoots = Readonly<Record<string, readonly string[]>>;

export { saltPath, saltUrlEnv } from "../core/salt-url.js";

/** A FileClient over directories on this host. */
export function localFileClient(roots: FileRoots): FileClient {
  const find = async (url: string, saltenv: string): Promise<string | undefined> => {
    const env = saltUrlEnv(url) ?? saltenv;
    const rel = saltPath(url);
    for (const root of roots[env] ?? []) {
      const full = join(root, rel);
      const st = await stat(full).catch(() => undefined);
      if (st?.isFile()) return full;
    }
    return undefined;
  };
  const missing = (url: string, saltenv: string) => {
    const env = saltUrlEnv(url) ?? saltenv;
    return saltFileMissing(url, env, roots[env] ?? []);
  };
  const walk = async (saltenv: string, dirs: boolean): Promise<string[]> => {
    const out = new Set<string>();
    for (const root of roots[saltenv] ?? []) {
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = join(e.parentPath, e.name);
        // a symlink to a file counts as the file (as `cache` follows it, and the file server serves it)
        const isFile = e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile() === true);
        if (dirs ? !e.isDirectory() : !isFile) continue;
        out.add(full.slice(root.length).split(sep).filter(Boolean).join("/"));
      }
    }
    return [...out].sort();
  };
  return {
    async cache(url, saltenv) {
      const found = await find(url, saltenv);
      if (!found) throw missing(url, saltenv);
      return found;
    },
    async read(url, saltenv) {
      const found = await find(url, saltenv);
      return found === undefined ? undefined : readFile(found, "utf8");
    },
    async hash(url, saltenv) {
      const found = await find(url, saltenv);
      if (found === undefined) return undefined;
      return {
        hash_type: "sha256",
        hsum: createHash("sha256")
          .update(await readFile(found))
          .digest("hex"),
      };
    },
    list: (saltenv) => walk(saltenv, false),
    listDirs: (saltenv) => walk(saltenv, true),
    envs: () => Promise.resolve(Object.keys(roots).sort()),
  };
}
