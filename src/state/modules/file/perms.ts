/**
 * Ownership and mode of files (salt/modules/file.py check_perms): names resolved through NSS
 * (`getent`), modes in Salt's forms (644, '644', '0644', 'keep'), changes as Salt reports them.
 */
import { execFile } from "node:child_process";
import { chmod, chown, lstat } from "node:fs/promises";
import { promisify } from "node:util";
import { StateArgumentError } from "../../../core/errors.js";

const run = promisify(execFile);

/** Wanted ownership and mode; undefined fields are left as they are. */
export interface Perms {
  readonly user?: string;
  readonly group?: string;
  /** Four octal digits, e.g. `0644`. */
  readonly mode?: string;
}

/** Salt's mode forms -> `0644`; `keep` and null -> undefined. */
export function parseMode(fun: string, field: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === "keep") return undefined;
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : "";
  if (!/^[0-7]{1,4}$/.test(text))
    throw new StateArgumentError(
      fun,
      field,
      `must be an octal mode such as '0644', got ${JSON.stringify(v)}`,
    );
  return text.padStart(4, "0");
}

async function getent(db: "passwd" | "group", key: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run("getent", [db, key]);
    return stdout.trim().split(":");
  } catch {
    return undefined;
  }
}

/** uid of a user name or number; throws a clear error for an unknown user. */
export async function uidOf(user: string): Promise<number> {
  const e = await getent("passwd", user);
  if (!e) throw new Error(`User ${user} is not available`);
  return Number(e[2]);
}

/** gid of a group name or number; throws a clear error for an unknown group. */
export async function gidOf(group: string): Promise<number> {
  const e = await getent("group", group);
  if (!e) throw new Error(`Group ${group} is not available`);
  return Number(e[2]);
}

async function nameOf(db: "passwd" | "group", id: number): Promise<string> {
  return (await getent(db, String(id)))?.[0] ?? String(id);
}

/** What `apply` would change on `path` (Salt's keys: user, group, mode), by name as Salt prints. */
export async function permChanges(path: string, want: Perms): Promise<Record<string, string>> {
  const st = await lstat(path);
  const out: Record<string, string> = {};
  if (want.user !== undefined && st.uid !== (await uidOf(want.user))) out.user = want.user;
  if (want.group !== undefined && st.gid !== (await gidOf(want.group))) out.group = want.group;
  if (want.mode !== undefined && (st.mode & 0o7777) !== parseInt(want.mode, 8)) out.mode = want.mode;
  return out;
}

/** Applies ownership and mode; returns what changed. */
export async function applyPerms(path: string, want: Perms): Promise<Record<string, string>> {
  const changes = await permChanges(path, want);
  if (changes.user !== undefined || changes.group !== undefined) {
    const st = await lstat(path);
    await chown(
      path,
      want.user !== undefined ? await uidOf(want.user) : st.uid,
      want.group !== undefined ? await gidOf(want.group) : st.gid,
    );
  }
  if (changes.mode !== undefined) await chmod(path, parseInt(changes.mode, 8));
  return changes;
}

/** The current owner, group and mode of `path`, by name. */
export async function currentPerms(path: string): Promise<{ user: string; group: string; mode: string }> {
  const st = await lstat(path);
  return {
    user: await nameOf("passwd", st.uid),
    group: await nameOf("group", st.gid),
    mode: (st.mode & 0o7777).toString(8).padStart(4, "0"),
  };
}
