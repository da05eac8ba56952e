/**
 * A stack of real processes for end-to-end and fault tests: `reactor serve` and `reactor agent`
 * started from the compiled CLI against a test nats-server, with a fixture directory copied to a
 * temp dir. Processes are stopped (or killed) by PID.
 */
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { startCli } from "./cli.js";
import { repoRoot } from "./paths.js";

/** A started CLI process with its output. */
export interface Proc {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** SIGKILL, resolved when it exited. */
  kill(): Promise<void>;
  /** SIGTERM, resolved when it exited. */
  stop(): Promise<void>;
}

function wrap(p: ReturnType<typeof startCli>): Proc {
  const exited = () => p.child.exitCode !== null || p.child.signalCode !== null;
  const signal = (sig: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (exited()) return resolve();
      p.child.once("exit", () => resolve());
      p.child.kill(sig);
    });
  return { child: p.child, out: p.out, err: p.err, kill: () => signal("SIGKILL"), stop: () => signal("SIGTERM") };
}

/** Copies test/fixtures/<name> to a temp dir; returns its path. */
export async function fixtureDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `nr-${name}-`));
  await cp(join(repoRoot(), "test", "fixtures", name), dir, { recursive: true });
  return dir;
}

/** Starts `reactor serve -c <dir>/reactor.yaml`. */
export function startServe(dir: string, env: Record<string, string>): Proc {
  return startCliProc(["serve", "-c", join(dir, "reactor.yaml")], env);
}

/** Starts any long-running CLI command as a Proc. */
export function startCliProc(args: string[], env: Record<string, string>): Proc {
  return wrap(startCli(args, env));
}

/** Writes an agent.yaml for `id` in `dir` and starts `reactor agent` on it. */
export async function startAgentProc(dir: string, id: string, env: Record<string, string>, extra: Record<string, unknown> = {}): Promise<Proc> {
  const file = join(dir, `agent-${id}.yaml`);
  await writeFile(file, JSON.stringify({ id, state_dir: join(dir, `state-${id}`), beacons_file: join(dir, "no-beacons.yaml"), ...extra }));
  return wrap(startCli(["agent", "-c", file], env));
}

/**
 * The demo HTTP service (examples/demo-web.mjs) as agent.yaml's per-service commands: started
 * detached on `port`, checked by an HTTP request, stopped through its pidfile.
 */
export function demoWebService(port: number, pidfile: string): Record<string, { check: string[]; start: string[]; stop: string[] }> {
  const check = `fetch('http://127.0.0.1:${port}/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
  return {
    "demo-web": {
      check: [process.execPath, "-e", check],
      start: [process.execPath, join(repoRoot(), "examples", "demo-web.mjs"), "--port", String(port), "--pidfile", pidfile],
      stop: ["sh", "-c", `kill $(cat ${pidfile})`],
    },
  };
}

/** beacons.yaml watching demo-web every second, one event per change. */
export const DEMO_WEB_BEACONS = "beacons:\n  service:\n    - services:\n        demo-web:\n          onchangeonly: true\n    - interval: 1\n";
