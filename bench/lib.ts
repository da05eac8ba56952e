/**
 * Shared helpers of the benchmarks: a bounded run with cleanups (every process a bench starts is
 * stopped by PID, even on error or timeout), /proc sampling, percentiles, and the `GOAL` lines
 * that scripts/bench-all.mjs collects into docs/BENCHMARKS.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadavg, cpus } from "node:os";
import { CLI } from "../test/helpers/cli.js";

export { CLI };

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
export const CLK_TCK = 100;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export const median = (values: readonly number[]): number => percentile(values, 50);

export const rate = (x: number): string => `${Math.round(x).toLocaleString("en-US")}/s`;
export const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
export const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** Seconds of a bench phase: BENCH_SECONDS when set, else the default. */
export function benchSeconds(def: number): number {
  const v = Number(process.env.BENCH_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : def;
}

/** Prints a goal line: `GOAL | name | target | measured | met|NOT met`. */
export function goal(name: string, target: string, measured: string, met: boolean | undefined): void {
  console.log(`GOAL | ${name} | ${target} | ${measured} | ${met === undefined ? "reported (no goal)" : met ? "met" : "NOT met"}`);
}

/** A note on how noisy the machine was when the bench started (2 cores, shared with other work). */
export function noiseNote(): string {
  const [l1] = loadavg();
  const n = cpus().length;
  const busy = (l1 ?? 0) > 0.5;
  return `machine: ${n} cores, load average (1 min) ${(l1 ?? 0).toFixed(2)} at start${busy ? " -- other work is running: figures are NOISY" : ""}`;
}

/** One /proc sample of a process: CPU ticks (own and reaped children) and resident set size. */
export interface ProcSample {
  readonly at: number;
  readonly ticks: number;
  readonly childTicks: number;
  readonly rssKb: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name (which may contain spaces) start at field 3
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]); // utime (14) + stime (15)
    const childTicks = Number(f[13]) + Number(f[14]); // cutime (16) + cstime (17)
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { at: performance.now(), ticks, childTicks, rssKb };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in % of one core. */
export function cpuPercent(a: ProcSample, b: ProcSample, withChildren = false): number {
  const t = b.ticks - a.ticks + (withChildren ? b.childTicks - a.childTicks : 0);
  return (t / CLK_TCK / ((b.at - a.at) / 1000)) * 100;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

/** A long-running CLI process (the compiled `reactor`), with its output kept (tail only). */
export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  out(): string;
  err(): string;
  stop(): Promise<void>;
}

export function startProc(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout = (stdout + b.toString()).slice(-20_000)));
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
  return {
    child,
    pid: child.pid!,
    out: () => stdout,
    err: () => stderr,
    stop: () => stopChild(child),
  };
}

export function startReactor(args: string[], env: Record<string, string> = {}, cwd?: string): Proc {
  return startProc(process.execPath, [CLI, ...args], env, cwd);
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(t);
}

/** Kills a process by PID (e.g. a detached demo-web from its pidfile); ignores a missing one. */
export function killPid(pid: number | undefined, signal: NodeJS.Signals = "SIGTERM"): void {
  if (!pid || !Number.isInteger(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until `fn` returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Runs a bench bounded by `maxMs`: cleanups registered with `defer` run in reverse order on
 * success, on error, on timeout and on SIGINT/SIGTERM; the process then exits (1 on failure).
 */
export async function runBench(name: string, maxMs: number, body: (defer: (fn: () => unknown) => void) => Promise<void>): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  const defer = (fn: () => unknown) => void cleanups.push(fn);
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) {
        try {
          await Promise.race([fn(), sleep(10_000)]);
        } catch (err) {
          console.error(`${name}: cleanup step failed: ${String(err)}`);
        }
      }
    })());
  const fail = async (why: string) => {
    console.error(`${name}: ${why}`);
    await cleanup();
    process.exit(1);
  };
  const timer = setTimeout(() => void fail(`bench exceeded its bound of ${Math.round(maxMs / 1000)} s; stopped`), maxMs);
  process.once("SIGINT", () => void fail("interrupted"));
  process.once("SIGTERM", () => void fail("terminated"));
  console.log(`== ${name} -- ${noiseNote()}`);
  try {
    await body(defer);
  } catch (err) {
    clearTimeout(timer);
    await fail(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  clearTimeout(timer);
  await cleanup();
  process.exit(0);
}

/** Whether this module is the entry point (`node dist/bench/x.js` or `tsx bench/x.ts`). */
export function isMain(url: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const strip = (p: string) => p.replace(/^file:\/\//, "").replace(/\.(ts|js)$/, "");
  return strip(decodeURIComponent(url)) === strip(entry);
}

/** The repository root (holds package.json), from bench/ under tsx and from dist/bench/ alike. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Publishes with at most `window` promises in flight. */
export async function windowed(n: number, window: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p = fn(i).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}
