/**
 * Salt's global state options that look before or after a state function: `onlyif`, `unless`,
 * `creates` (salt/state.py `_run_check`), `check_cmd` (`_run_check_cmd`) and `retry`'s settings.
 * Commands are the SLS author's text and run through the shell as Salt does (`python_shell`),
 * with the state's `cwd`, `runas`, `env`, `timeout` and `shell`; never event data.
 */
import { existsSync } from "node:fs";
import { errorMessage } from "../core/errors.js";
import type { LowChunk, StateContext } from "./types.js";

/** What `_run_check` says: `skip` true means the state is not called (result True, skip_watch). */
export interface RunCheck {
  readonly skip: boolean;
  readonly comment: string;
}

/** The cmd.retcode options Salt takes from the state (POSSIBLE_CMD_ARGS that cmd.retcode knows). */
const CMD_OPTS = ["cwd", "runas", "env", "timeout", "shell"] as const;

/** Runs onlyif, unless and creates of `low` (only those present); undefined when none is. */
export async function runCheck(low: LowChunk, ctx: StateContext): Promise<RunCheck | undefined> {
  if (low.onlyif === undefined && low.unless === undefined && low.creates === undefined) return undefined;
  const opts = cmdOpts(low);
  const comments: string[] = [];
  let skip = false;
  if (low.onlyif !== undefined) {
    const r = await onlyif(list(low.onlyif), ctx, opts);
    skip = r.skip;
    comments.push(r.comment);
  }
  if (low.unless !== undefined) {
    const r = await unless(list(low.unless), ctx, opts);
    skip = skip || r.skip;
    comments.push(r.comment);
  }
  if (low.creates !== undefined) {
    const r = creates(low.creates);
    skip = skip || r.skip;
    comments.push(r.comment);
  }
  return { skip, comment: comments.join("\n") };
}

/** Salt's `_run_check_cmd`: every check_cmd must exit 0 for the state to have succeeded. */
export async function runCheckCmd(
  low: LowChunk,
  ctx: StateContext,
): Promise<{ result: boolean; comment: string }> {
  let out = { result: false, comment: "" };
  for (const cmd of list(low.check_cmd)) {
    const code = await retcode(String(cmd), ctx, shellOnly(low), 1);
    if (code === 0 && !out.result)
      out = { result: true, comment: "check_cmd determined the state succeeded" };
    else if (code !== 0) return { result: false, comment: "check_cmd determined the state failed" };
  }
  return out;
}

async function onlyif(
  entries: unknown[],
  ctx: StateContext,
  opts: Record<string, unknown>,
): Promise<RunCheck> {
  let ret: RunCheck = { skip: false, comment: "" };
  for (const entry of entries) {
    let ok: boolean;
    if (typeof entry === "string") ok = (await retcode(entry, ctx, opts, 100)) === 0;
    else if (isRecord(entry)) {
      if (!("fun" in entry))
        return { skip: false, comment: `no \`fun\` argument in onlyif: ${JSON.stringify(entry)}` };
      ok = truthy(await callFun(entry, ctx));
    } else return { skip: false, comment: "onlyif execution failed, bad type passed" };
    if (!ok) return { skip: true, comment: "onlyif condition is false" };
    ret = { skip: false, comment: "onlyif condition is true" };
  }
  return ret;
}

async function unless(
  entries: unknown[],
  ctx: StateContext,
  opts: Record<string, unknown>,
): Promise<RunCheck> {
  let ret: RunCheck = { skip: false, comment: "" };
  for (const entry of entries) {
    let holds: boolean;
    if (typeof entry === "string") holds = (await retcode(entry, ctx, opts, 0)) === 0;
    else if (isRecord(entry)) {
      if (!("fun" in entry))
        return { skip: false, comment: `no \`fun\` argument in unless: ${JSON.stringify(entry)}` };
      holds = truthy(await callFun(entry, ctx));
    } else {
      ret = { skip: false, comment: "unless condition is false, bad type passed" };
      continue;
    }
    if (!holds) return { skip: false, comment: "unless condition is false" };
    ret = { skip: true, comment: "unless condition is true" };
  }
  return ret;
}

function creates(value: unknown): RunCheck {
  if (typeof value === "string" && existsSync(value)) return { skip: true, comment: `${value} exists` };
  if (Array.isArray(value) && value.every((p) => typeof p === "string" && existsSync(p)))
    return { skip: true, comment: "All files in creates exist" };
  return { skip: false, comment: "Creates files not found" };
}

/** Salt 3006's `- fun: file.file_exists` form: the function's return, optionally a key of it. */
async function callFun(entry: Record<string, unknown>, ctx: StateContext): Promise<unknown> {
  const { fun, args, get_return: getReturn, ...kwargs } = entry;
  const result = await ctx.exec(String(fun), Array.isArray(args) ? args : [], kwargs);
  if (typeof getReturn !== "string") return result;
  let at: unknown = result;
  for (const key of getReturn.split(":"))
    at = isRecord(at) ? at[key] : Array.isArray(at) ? at[Number(key)] : undefined;
  return at;
}

/** cmd.retcode of a check command; `onError` when the command cannot be run (Salt's CommandExecutionError). */
async function retcode(
  cmd: string,
  ctx: StateContext,
  opts: Record<string, unknown>,
  onError: number,
): Promise<number> {
  try {
    const code = await ctx.exec("cmd.retcode", [cmd], { ...opts, ignore_retcode: true, python_shell: true });
    return typeof code === "number" ? code : onError;
  } catch (err) {
    ctx.logger.debug({ err: errorMessage(err), cmd }, "state check command failed to run");
    return onError;
  }
}

function cmdOpts(low: LowChunk): Record<string, unknown> {
  const exclude = list(low.cmd_opts_exclude);
  const out: Record<string, unknown> = {};
  for (const k of CMD_OPTS)
    if (low[k] !== undefined && low[k] !== null && !exclude.includes(k)) out[k] = low[k];
  return out;
}

function shellOnly(low: LowChunk): Record<string, unknown> {
  return typeof low.shell === "string" ? { shell: low.shell } : {};
}

function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Python's truthiness, which Salt applies to a check function's return. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Salt's retry settings (verify_retry_data): a bad or missing value takes its default. */
export interface Retry {
  readonly until: boolean;
  readonly attempts: number;
  readonly interval: number;
  readonly splay: number;
}

/** Reads `retry:` as Salt does (`True` or a map; defaults until True, attempts 2, interval 30, splay 0). */
export function retrySettings(value: unknown): Retry {
  const d: Retry = { until: true, attempts: 2, interval: 30, splay: 0 };
  if (!isRecord(value)) return d;
  const int = (k: "attempts" | "interval" | "splay"): number =>
    typeof value[k] === "number" && Number.isInteger(value[k]) ? (value[k] as number) : d[k];
  return {
    until: typeof value.until === "boolean" ? value.until : d.until,
    attempts: int("attempts"),
    interval: int("interval"),
    splay: int("splay"),
  };
}

/** Python's str() of a state result, as Salt's comments print it. */
export function pyResult(r: boolean | null): string {
  return r === null ? "None" : r ? "True" : "False";
}
