/**
 * `salt://` URLs: the path and `?saltenv=` of a URL, and the "no such file" error every FileClient
 * raises (the local one over file_roots, the agent's one over the file server).
 */
import { posix } from "node:path";
import { FileServerError } from "./errors.js";

/** `salt://a/b.conf` or `a/b.conf` -> `a/b.conf`; refuses `..` and absolute escapes. */
export function saltPath(url: string): string {
  const raw = url.startsWith("salt://") ? url.slice("salt://".length) : url;
  const path = raw.split("?")[0]!.replace(/^\/+/, "");
  const norm = posix.normalize(path);
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

/** The error for a `salt://` file that no root of `env` has; `searched` are the roots looked in. */
export function saltFileMissing(url: string, env: string, searched: readonly string[]): FileServerError {
  return new FileServerError(
    `${url}: no such file in saltenv ${JSON.stringify(env)} (searched ${searched.length ? searched.join(", ") : "no roots: the environment is not in file_roots"})`,
  );
}
