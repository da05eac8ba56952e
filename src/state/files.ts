/**
 * The local file client: `salt://` paths served from `file_roots` on this host's disk (masterless
 * `reactor call --local`, the service itself, tests). The first root of the environment that has
 * the file wins, as Salt's roots fileserver.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join, normalize, sep } from "node:path";
import { FileServerError } from "../core/errors.js";
import type { FileClient } from "./types.js";

/** `file_roots` as Salt writes it: environment -> directories, first match wins. */
export type FileRoots = Readonly<Record<string, readonly string[]>>;

/** `salt://a/b.conf` or `a/b.conf` -> `a/b.conf`; refuses `..` and absolute escapes. */
export function saltPath(url: string): string {
  const raw = url.startsWith("salt://") ? url.slice("salt://".length) : url;
  const path = raw.split("?")[0]!.replace(/^\/+/, "");
  const norm = normalize(path).split(sep).join("/");
  if (norm === ".." || norm.startsWith("../") || norm === "." || norm === "")
    throw new FileServerError(`invalid salt:// path ${JSON.stringify(url)}`);
  return norm;
}

/** The `saltenv=` of `salt://path?saltenv=dev`, if any. */
export function saltUrlEnv(url: string): string | undefined {
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get("saltenv") ?? undefined;
}

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
  const missing = (url: string, saltenv: string): FileServerError => {
    const env = saltUrlEnv(url) ?? saltenv;
    const dirs = roots[env] ?? [];
    return new FileServerError(
      `${url}: no such file in saltenv ${JSON.stringify(env)} (searched ${dirs.length ? dirs.join(", ") : "no roots: the environment is not in file_roots"})`,
    );
  };
  const walk = async (saltenv: string, dirs: boolean): Promise<string[]> => {
    const out = new Set<string>();
    for (const root of roots[saltenv] ?? []) {
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (dirs ? !e.isDirectory() : !e.isFile()) continue;
        const full = join(e.parentPath, e.name);
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
