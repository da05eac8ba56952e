/**
 * The `cmd` state module (salt/states/cmd.py): run, wait (nothing until watched: its mod_watch
 * runs the command), script (a salt:// script), through the agent's `cmd.run_all` so that the
 * agent's command rules (argv by default, python_shell, runas, cwd, env) apply.
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

/** Arguments passed on to cmd.run_all / cmd.script. */
const PASS = [
  "cwd",
  "runas",
  "env",
  "shell",
  "python_shell",
  "stdin",
  "umask",
  "timeout",
  "output_loglevel",
  "hide_output",
  "success_retcodes",
  "args",
  "template",
  "saltenv",
] as const;

interface RunAll {
  readonly pid?: number;
  readonly retcode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function passed(a: StateArgs): Record<string, unknown> {
  const kw: Record<string, unknown> = {};
  for (const k of PASS) if (a[k] !== undefined && a[k] !== null) kw[k] = a[k];
  // Salt's cmd states run through a shell unless told otherwise (python_shell defaults to True there).
  if (kw.python_shell === undefined) kw.python_shell = true;
  return kw;
}

async function execute(
  fun: "cmd.run_all" | "cmd.script",
  a: StateArgs,
  ctx: StateContext,
): Promise<StateReturn> {
  const name = a.name;
  if (ctx.test) return { result: null, changes: {}, comment: `Command '${name}' would have been executed` };
  const kw = passed(a);
  if (fun === "cmd.script") {
    kw.saltenv ??= ctx.saltenv;
    delete kw.python_shell;
  }
  const source = fun === "cmd.script" ? String(a.source ?? name) : name;
  let r: RunAll;
  try {
    r = (await ctx.exec(fun, [source], kw)) as RunAll;
  } catch (err) {
    return { result: false, changes: {}, comment: (err as Error).message };
  }
  const ok = r.retcode === 0 || (Array.isArray(a.success_retcodes) && a.success_retcodes.includes(r.retcode));
  const changes = { pid: r.pid ?? null, retcode: r.retcode, stdout: r.stdout, stderr: r.stderr };
  return { result: ok, changes, comment: `Command "${name}" run` };
}

const runState = (a: StateArgs, ctx: StateContext) => execute("cmd.run_all", a, ctx);
const scriptState = (a: StateArgs, ctx: StateContext) => execute("cmd.script", a, ctx);

/** cmd.wait and cmd.wait_script do nothing on their own. */
const wait = (): Promise<StateReturn> => Promise.resolve({ result: true, changes: {}, comment: "" });

function modWatch(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const sfun = String(a.sfun ?? "");
  if (sfun === "wait" || sfun === "run" || sfun === "watch") return runState(a, ctx);
  if (sfun === "wait_script" || sfun === "script") return scriptState(a, ctx);
  return Promise.resolve({
    result: false,
    changes: {},
    comment: `cmd.${sfun} does not work with the watch requisite, please use cmd.wait or cmd.wait_script`,
  });
}

export const cmdStates: StateModule = {
  name: "cmd",
  functions: { run: runState, wait, script: scriptState, wait_script: wait },
  modWatch,
};
