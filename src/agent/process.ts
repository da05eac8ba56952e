/**
 * Runs a child process from an argv (never a shell string), capturing its output. The child gets its
 * own process group, so a timeout or an abort kills it and everything it started.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { ExecutionError, TimeoutError } from "../core/errors.js";

/** Options of one run. */
export interface RunOptions {
  readonly cwd?: string;
  /** Added to (and overriding) the agent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the child's stdin, which is then closed. */
  readonly stdin?: string;
  /** Kill the child after this many milliseconds. */
  readonly timeoutMs?: number;
  /** Kill the child when this aborts (the job's timeout). */
  readonly signal?: AbortSignal;
}

/** What a finished child produced. */
export interface RunResult {
  readonly pid: number;
  /** Exit code; 128 + signal number when it was killed by a signal. */
  readonly retcode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved in arrival order (Salt's `redirect_stderr`). */
  readonly output: string;
}

/** Runs argv to completion. Rejects on spawn failure (ExecutionError) and timeout/abort (TimeoutError). */
export function runProcess(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === "") return Promise.reject(new ExecutionError("empty command"));
  if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal, cmd));
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const all: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => (out.push(b), all.push(b)));
    child.stderr.on("data", (b: Buffer) => (err.push(b), all.push(b)));
    let failure: Error | undefined;
    const kill = (why: Error) => {
      failure ??= why;
      killGroup(child.pid);
    };
    const ms = opts.timeoutMs;
    const timer =
      ms !== undefined
        ? setTimeout(
            () => kill(new TimeoutError(`command ${JSON.stringify(cmd)} timed out after ${ms / 1000} s`)),
            ms,
          )
        : undefined;
    const onAbort = () => kill(abortReason(opts.signal!, cmd));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      done();
      const why =
        e.code === "ENOENT"
          ? `command not found: ${cmd}`
          : e.code === "EACCES"
            ? `permission denied: ${cmd}`
            : e.message;
      reject(new ExecutionError(why, { cause: e }));
    });
    child.on("close", (code, sig) => {
      done();
      if (failure) return reject(failure);
      const text = (bs: Buffer[]) => Buffer.concat(bs).toString("utf8");
      resolve({
        pid: child.pid ?? 0,
        retcode: code ?? 128 + (sig ? constants.signals[sig] : 0),
        stdout: text(out),
        stderr: text(err),
        output: text(all),
      });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Kills a process group (and the leader, in case it already left the group). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = "SIGKILL"): void {
  if (pid === undefined) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

function abortReason(signal: AbortSignal, cmd: string): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new TimeoutError(`command ${JSON.stringify(cmd)} was cancelled`);
}
