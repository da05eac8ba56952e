/**
 * `git.latest` (salt/states/git.py): a checkout of `name` (the repository URL) at `rev` (a branch,
 * tag or commit; default the remote HEAD) in `target`, through the git CLI. Clones when the target
 * is missing or empty; fetches and moves to the new revision otherwise; local changes are kept
 * and fail the state unless `force_reset`. Changes: `revision: {old, new}` (and `new` on a clone).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";
import { mustRun, runArgv } from "../run.js";

async function remoteRev(
  ctx: StateContext,
  url: string,
  rev: string,
  runas?: string,
): Promise<string | undefined> {
  if (/^[0-9a-f]{40}$/.test(rev)) return rev;
  const out = await mustRun(
    ctx,
    [
      "git",
      "ls-remote",
      url,
      rev === "HEAD" ? "HEAD" : rev,
      `refs/heads/${rev}`,
      `refs/tags/${rev}^{}`,
      `refs/tags/${rev}`,
    ],
    runas ? { runas } : {},
  );
  const lines = out
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t") as [string, string]);
  const pick =
    lines.find(([, r]) => r.endsWith("^{}")) ?? lines.find(([, r]) => r === `refs/heads/${rev}`) ?? lines[0];
  return pick?.[0];
}

async function latest(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const url = a.name;
  const target = typeof a.target === "string" ? a.target : undefined;
  if (!target) return { result: false, changes: {}, comment: "git.latest needs a target directory" };
  const rev = String(a.rev ?? a.branch ?? "HEAD");
  const runas = typeof a.user === "string" ? a.user : undefined;
  const opts = { ...(runas ? { runas } : {}) };
  const st = await stat(target).catch(() => undefined);
  const empty = !st || (st.isDirectory() && (await readdir(target)).length === 0);
  let want: string | undefined;
  try {
    want = await remoteRev(ctx, url, rev, runas);
  } catch (err) {
    return { result: false, changes: {}, comment: (err as Error).message };
  }
  if (!want)
    return {
      result: false,
      changes: {},
      comment: `No revision matching '${rev}' exists in the remote repository`,
    };
  if (empty) {
    if (ctx.test)
      return {
        result: null,
        changes: { new: `${url} => ${target}`, revision: { old: null, new: want } },
        comment: `Repository ${url} would be cloned to ${target}`,
      };
    const depth = a.depth !== undefined && a.depth !== null ? ["--depth", String(a.depth)] : [];
    const branch = rev !== "HEAD" && !/^[0-9a-f]{40}$/.test(rev) ? ["--branch", rev] : [];
    await mustRun(ctx, ["git", "clone", ...depth, ...branch, url, target], opts);
    if (/^[0-9a-f]{40}$/.test(rev))
      await mustRun(ctx, ["git", "checkout", "-q", rev], { ...opts, cwd: target });
    const now = (await mustRun(ctx, ["git", "rev-parse", "HEAD"], { ...opts, cwd: target })).trim();
    return {
      result: true,
      changes: { new: `${url} => ${target}`, revision: { old: null, new: now } },
      comment: `Repository ${url} cloned to ${target}`,
    };
  }
  if (!(await stat(join(target, ".git")).catch(() => undefined)))
    return {
      result: false,
      changes: {},
      comment: `Target '${target}' exists, is non-empty and is not a git repository`,
    };
  const have = (await mustRun(ctx, ["git", "rev-parse", "HEAD"], { ...opts, cwd: target })).trim();
  if (have === want) return { result: true, changes: {}, comment: `Repository ${target} is up-to-date` };
  const dirty =
    (
      await runArgv(ctx, ["git", "status", "--porcelain", "--untracked-files=no"], { ...opts, cwd: target })
    ).stdout.trim() !== "";
  if (dirty && a.force_reset !== true)
    return {
      result: false,
      changes: {},
      comment: `Repository ${target} has local changes; set force_reset: True to discard them`,
    };
  if (ctx.test)
    return {
      result: null,
      changes: { revision: { old: have, new: want } },
      comment: `Repository ${target} would be updated from ${have.slice(0, 7)} to ${want.slice(0, 7)}`,
    };
  await mustRun(ctx, ["git", "fetch", "-q", "origin", ...(rev === "HEAD" ? [] : [rev])], {
    ...opts,
    cwd: target,
  });
  await mustRun(ctx, ["git", "reset", "-q", "--hard", want], { ...opts, cwd: target });
  return {
    result: true,
    changes: { revision: { old: have, new: want } },
    comment: `Repository ${target} updated`,
  };
}

export const gitStates: StateModule = { name: "git", functions: { latest } };
