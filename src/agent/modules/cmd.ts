/**
 * `cmd.*`: run, retcode, run_all, script. Commands are argv by default: a string is split like a
 * shell would split it but WITHOUT a shell; `python_shell: true` runs it through `shell` (/bin/sh).
 */
import { userInfo } from "node:os";
import { isAbsolute } from "node:path";
import { ExecutionError, ModuleArgumentError } from "../../core/errors.js";
import { runProcess, type RunResult } from "../process.js";
import { shellSplit } from "../shell-split.js";
import { define, type Bound, type Signature } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

const OPTIONS = [
  "cwd",
  "stdin",
  "runas",
  "python_shell",
  "shell",
  "env",
  "timeout",
  "rstrip",
  "ignore_retcode",
];
const DEFAULTS = {
  cwd: null,
  stdin: null,
  runas: null,
  python_shell: false,
  shell: "/bin/sh",
  env: null,
  timeout: null,
  rstrip: true,
  ignore_retcode: false,
};
const CMD_SIG: Signature = { params: ["cmd", ...OPTIONS], defaults: DEFAULTS };
const SCRIPT_SIG: Signature = {
  params: ["source", "args", ...OPTIONS],
  defaults: { ...DEFAULTS, args: null },
};

/** The `cmd` module. */
export const cmdModule: ModuleFunctions = {
  run: define("cmd.run", CMD_SIG, async (a, ctx) => {
    const r = await execute(a, commandArgv(a), ctx);
    setRetcode(a, r.retcode, ctx);
    return strip(a, r.output);
  }),
  retcode: define("cmd.retcode", CMD_SIG, async (a, ctx) => (await execute(a, commandArgv(a), ctx)).retcode),
  run_all: define("cmd.run_all", CMD_SIG, async (a, ctx) => {
    const r = await execute(a, commandArgv(a), ctx);
    setRetcode(a, r.retcode, ctx);
    return { pid: r.pid, retcode: r.retcode, stdout: strip(a, r.stdout), stderr: strip(a, r.stderr) };
  }),
  script: define("cmd.script", SCRIPT_SIG, async (a, ctx) => {
    const source = a.str("source");
    if (!isAbsolute(source))
      throw new ModuleArgumentError(
        "cmd.script",
        `source must be an absolute path on the agent, got ${JSON.stringify(source)}`,
      );
    const args = a.raw("args");
    const extra =
      args === null || args === undefined
        ? []
        : Array.isArray(args)
          ? args.map(String)
          : shellSplit(String(args));
    const r = await execute(a, [source, ...extra], ctx);
    setRetcode(a, r.retcode, ctx);
    return { pid: r.pid, retcode: r.retcode, stdout: strip(a, r.stdout), stderr: strip(a, r.stderr) };
  }),
};

/** The argv of `cmd`: a list as given, a string split without a shell, or `[shell, -c, cmd]`. */
function commandArgv(a: Bound): string[] {
  const cmd = a.raw("cmd");
  if (Array.isArray(cmd)) {
    if (cmd.length === 0 || !cmd.every((s) => typeof s === "string" || typeof s === "number")) {
      throw new ModuleArgumentError(a.fun, "argument 'cmd' must be a string or a non-empty list of strings");
    }
    const argv = cmd.map(String);
    return a.bool("python_shell") ? [a.str("shell"), "-c", argv.join(" ")] : argv;
  }
  const text = a.str("cmd");
  if (a.bool("python_shell")) return [a.str("shell"), "-c", text];
  const argv = shellSplit(text);
  if (argv.length === 0) throw new ModuleArgumentError(a.fun, "argument 'cmd' is empty");
  return argv;
}

async function execute(a: Bound, argv: string[], ctx: ModuleContext): Promise<RunResult> {
  const cwd = a.optStr("cwd");
  if (cwd !== undefined && !isAbsolute(cwd))
    throw new ModuleArgumentError(
      a.fun,
      `argument 'cwd' must be an absolute path, got ${JSON.stringify(cwd)}`,
    );
  const timeout = a.optNum("timeout");
  const stdin = a.optStr("stdin");
  const env = envOf(a);
  ctx.logger.debug({ fun: a.fun, argv, cwd }, "running command");
  return runProcess(withRunas(a, argv), {
    signal: ctx.signal,
    ...(cwd !== undefined ? { cwd } : {}),
    ...(timeout !== undefined && timeout > 0 ? { timeoutMs: timeout * 1000 } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(env !== undefined ? { env } : {}),
  });
}

function envOf(a: Bound): Record<string, string> | undefined {
  const env = a.raw("env");
  if (env === null || env === undefined) return undefined;
  if (typeof env !== "object" || Array.isArray(env))
    throw new ModuleArgumentError(a.fun, "argument 'env' must be a map of names to strings");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw new ModuleArgumentError(a.fun, `argument 'env' must be a map of names to strings (${k} is not)`);
    }
    out[k] = String(v);
  }
  return out;
}

/** Prefixes `runuser -u USER --` when `runas` names another user; only root may do that. */
function withRunas(a: Bound, argv: string[]): string[] {
  const user = a.optStr("runas");
  if (user === undefined || user === userInfo().username) return argv;
  if (process.getuid?.() !== 0)
    throw new ExecutionError(`${a.fun}: runas=${user} needs the agent to run as root`);
  return ["runuser", "-u", user, "--", ...argv];
}

function setRetcode(a: Bound, code: number, ctx: ModuleContext): void {
  if (!a.bool("ignore_retcode")) ctx.setRetcode(code);
}

function strip(a: Bound, s: string): string {
  return a.bool("rstrip") ? s.trimEnd() : s;
}
