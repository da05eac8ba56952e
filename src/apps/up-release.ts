/**
 * `reactor up --demo release`: the seed demo of docs/orchestration.md on top of the `up` stack. A
 * real haproxy with an empty backend `app`, a load-balancer agent (lb1, its key accepted here) and
 * three web agents (web1..3) each with the demo app of examples/release. Nothing else is wired by
 * hand: the example reactors accept the web hosts' keys and put them behind haproxy.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { JobReturn, Logger } from "../core/index.js";
import { callKeyCommand, loadServiceKey, type KeyListing } from "../keys/index.js";
import { startAgent, type AgentHandle } from "./agent.js";
import type { ServiceHandle } from "./service.js";

/** The message a user sees when haproxy is missing. */
export const HAPROXY_MISSING = "haproxy not found on PATH nor at /usr/sbin/haproxy. Install it: `sudo apt-get install -y haproxy` (Debian/Ubuntu).";

const WEB_IDS = ["web1", "web2", "web3"] as const;
/** Releases shipped to every web host; 3.0.0 is not, so releasing it fails on the first host. */
const SHIPPED = ["1.0.0", "2.0.0"] as const;
const CURRENT = "1.0.0";
const JOIN_TIMEOUT_MS = 60_000;

/** What startReleaseDemo needs from the stack. */
export interface ReleaseDemoOptions {
  /** The package root (examples/release is copied from there). */
  readonly root: string;
  readonly stateDir: string;
  readonly nats: string;
  readonly service: ServiceHandle;
  /** The haproxy binary (findHaproxy). */
  readonly haproxyBin: string;
  /** The stack's bootstrap password file (its nats-server runs with the generated auth). */
  readonly bootstrapPasswordFile?: string;
  /** The frontend's port on 127.0.0.1; default a free one. */
  readonly haproxyPort?: number;
  readonly log: Logger;
  /** Aborts the start (Ctrl-C while starting). */
  readonly signal?: AbortSignal;
  /** Registers a stop step; the stack runs them in reverse order. */
  readonly defer: (step: () => Promise<unknown>) => void;
}

/** One web host: its app folder and port. */
export interface WebHost {
  readonly id: string;
  readonly dir: string;
  readonly port: number;
  readonly url: string;
}

/** The running demo. */
export interface ReleaseDemo {
  /** haproxy's frontend, `http://127.0.0.1:PORT/`. */
  readonly haproxyUrl: string;
  readonly haproxyPid: number;
  /** haproxy's admin socket. */
  readonly socket: string;
  readonly hosts: readonly WebHost[];
  readonly lb: AgentHandle;
  /** Web hosts still not in rotation when the wait for them ended (empty: all joined). */
  readonly missing: readonly string[];
}

/** The haproxy binary: on PATH, else /usr/sbin/haproxy; throws HAPROXY_MISSING. */
export function findHaproxy(): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/sbin"];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, "haproxy"), constants.X_OK);
      return join(dir, "haproxy");
    } catch {
      // not there
    }
  }
  throw new Error(HAPROXY_MISSING);
}

/** Starts haproxy, lb1 and web1..3, then waits (at most a minute) until the web hosts are in rotation. */
export async function startReleaseDemo(o: ReleaseDemoOptions): Promise<ReleaseDemo> {
  const port = o.haproxyPort ?? (await freePort());
  const haproxy = await startHaproxy(o, port);
  // The load balancer first: a web host that joins before lb1 is there is never added to haproxy.
  const lb = await startLoadBalancer(o, haproxy.socket);
  const hosts = await Promise.all(WEB_IDS.map((id) => prepareWebHost(o, id)));
  const started = await Promise.allSettled(hosts.map((h) => startWebHost(o, h)));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  o.log.info({ hosts: WEB_IDS }, "waiting for the web hosts to join haproxy");
  const missing = await waitForRotation(lb, WEB_IDS, o.signal);
  if (missing.length > 0) o.log.warn({ missing }, `not in rotation after ${JOIN_TIMEOUT_MS / 1000} s`);
  return { haproxyUrl: `http://127.0.0.1:${port}/`, haproxyPid: haproxy.pid, socket: haproxy.socket, hosts, lb, missing };
}

/** The release demo's part of the `reactor up` banner. */
export function releaseBanner(d: ReleaseDemo): string[] {
  const lines = [
    "The seed demo: a rolling release behind haproxy (docs/orchestration.md).",
    `  haproxy: ${d.haproxyUrl}   (backend app; admin socket ${d.socket})`,
    ...d.hosts.map((h) => `  ${h.id}:    ${h.url}   (app folder ${h.dir})`),
    `  lb1:     the load balancer's agent`,
  ];
  if (d.missing.length > 0) lines.push(`  not in rotation yet: ${d.missing.join(", ")} (the service log above says why)`);
  const curl = `while sleep 0.2; do curl -s ${d.haproxyUrl}; done`;
  return [
    ...lines,
    "",
    "Watch it answer (webN VERSION), in a third terminal:",
    `  ${curl}`,
    "Release 2.0.0, one host at a time: out of haproxy, deploy, restart, check, back in (the loop sees no error):",
    `  reactor event send salt/netapi/hook/release '{"post": {"version": "2.0.0"}}'`,
    "  reactor orchestrate status JID                   # the run's steps; JID is in the \"orchestration finished\" log line",
    "A failed release: 3.0.0 was never shipped, so it stops at deploy_web1 and web1 stays out (release 2.0.0 again to bring it back):",
    `  reactor event send salt/netapi/hook/release '{"post": {"version": "3.0.0"}}'`,
    "A host leaves haproxy when its key is deleted:",
    "  reactor key delete web3 --yes",
  ];
}

/** haproxy in the foreground with an empty backend; resolves once its admin socket is there. */
async function startHaproxy(o: ReleaseDemoOptions, port: number): Promise<{ pid: number; socket: string }> {
  const socket = join(o.stateDir, "haproxy.sock");
  const cfg = join(o.stateDir, "haproxy.cfg");
  await rm(socket, { force: true }); // a stale one from a kept state dir would look like a started haproxy
  await writeFile(cfg, haproxyConfig(socket, port));
  const pidfile = join(o.stateDir, "haproxy.pid"); // haproxy writes none in the foreground (-db)
  const child = spawn(o.haproxyBin, ["-f", cfg, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  const log = o.log.child({ component: "haproxy" });
  let tail = "";
  const onOutput = (b: Buffer) => {
    tail = (tail + b.toString()).slice(-4000);
    for (const line of b.toString().split("\n")) if (line.trim()) log.info({ haproxy_pid: child.pid }, line.trim());
  };
  child.stdout.on("data", onOutput);
  child.stderr.on("data", onOutput);
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  o.defer(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(pidfile, { force: true });
  });
  const gone = () => spawnError ?? (child.exitCode !== null || child.signalCode !== null ? new Error(`haproxy exited during start (code ${child.exitCode}, signal ${child.signalCode}):\n${tail}`) : undefined);
  await poll(() => existsSync(socket), { what: `haproxy's admin socket ${socket}`, timeoutMs: 10_000, fail: gone, ...(o.signal ? { signal: o.signal } : {}) });
  await writeFile(pidfile, `${child.pid}\n`);
  log.info({ haproxy_pid: child.pid, url: `http://127.0.0.1:${port}/`, socket }, "haproxy started");
  return { pid: child.pid!, socket };
}

/** haproxy.cfg: the admin socket, frontend `web` on 127.0.0.1:PORT, backend `app` with no server. */
function haproxyConfig(socket: string, port: number): string {
  return [
    "# written by `reactor up --demo release`; web hosts join backend app at run time (orch/app-host-added.sls)",
    "global",
    `  stats socket ${socket} mode 600 level admin`,
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 10s",
    "  timeout server 10s",
    "frontend web",
    `  bind 127.0.0.1:${port}`,
    "  default_backend app",
    "backend app",
    "  balance roundrobin",
    "",
  ].join("\n");
}

/** lb1, its key accepted here once pending (auto-accept.sls only takes web*). */
async function startLoadBalancer(o: ReleaseDemoOptions, socket: string): Promise<AgentHandle> {
  const { started } = await startDemoAgent(o, "lb1", { grains: { roles: ["lb"] }, haproxy: { socket } });
  await acceptWhenPending(o, "lb1", started);
  const lb = await started;
  // Web hosts' add orchestrations target roles:lb: the service must see lb1 before any joins.
  await poll(() => o.service.minions.resolve("roles:lb", "grain").includes("lb1"), { what: "the service to see lb1", timeoutMs: 10_000, ...(o.signal ? { signal: o.signal } : {}) });
  return lb;
}

/** Accepts `id`'s key over the key service (as `reactor key accept` does) once it is pending. */
async function acceptWhenPending(o: ReleaseDemoOptions, id: string, started: Promise<unknown>): Promise<void> {
  const signer = await loadServiceKey(o.service.serviceKey.file);
  let done = false;
  void started.then(
    () => (done = true),
    () => (done = true),
  );
  const pending = async () => {
    if (done) return true; // accepted already (a kept state dir), or failed: awaiting `started` tells
    const keys = (await callKeyCommand(o.service.conn, "key.list_all", {}, signer)).return as KeyListing;
    return keys["minions_pre"]?.includes(id) ?? false;
  };
  await poll(pending, { what: `${id} to ask for acceptance`, timeoutMs: 30_000, intervalMs: 200, ...(o.signal ? { signal: o.signal } : {}) });
  if (done) return;
  const r = await callKeyCommand(o.service.conn, "key.accept", { match: id }, signer);
  if (!r.success) throw new Error(`accepting ${id}'s key failed: ${r.comment ?? "nothing matched"}`);
  o.log.info({ id }, "key accepted by reactor up");
}

/** An app folder with the example's app and deploy command, releases shipped, CURRENT deployed. */
async function prepareWebHost(o: ReleaseDemoOptions, id: string): Promise<WebHost> {
  const dir = join(o.stateDir, id);
  const port = await freePort();
  for (const v of SHIPPED) await mkdir(join(dir, "releases", v), { recursive: true });
  for (const f of ["app.mjs", "deploy.mjs"]) await copyFile(join(o.root, "examples", "release", f), join(dir, f));
  await writeFile(join(dir, "current"), `${CURRENT}\n`);
  return { id, dir, port, url: `http://127.0.0.1:${port}/` };
}

/**
 * Starts the host's agent, then its app through the agent's service manager (`service.start app`).
 * The app is stopped after its agent (stops run in reverse order), through its pidfile: a release
 * still running when Ctrl-C comes could otherwise restart it after it was stopped.
 */
async function startWebHost(o: ReleaseDemoOptions, h: WebHost): Promise<void> {
  o.defer(() => stopApp(h, o.log));
  const agent = await (await startDemoAgent(o, h.id, webAgentConfig(h))).started;
  const r = await runOn(agent, "service.start", ["app"]);
  if (!r.success) throw new Error(`${h.id}: service.start app failed: ${JSON.stringify(r.return)}`);
}

/** A web host's agent.yaml settings: the app as a service, its grains and mine entry. */
function webAgentConfig(h: WebHost): Record<string, unknown> {
  const node = process.execPath;
  const pidfile = join(h.dir, "app.pid");
  return {
    service_manager: "command",
    services: {
      app: {
        check: [node, "-e", `fetch(${JSON.stringify(h.url)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
        start: [node, join(h.dir, "app.mjs"), "--dir", h.dir, "--port", String(h.port), "--name", h.id, "--pidfile", pidfile],
        stop: [node, "-e", `process.kill(Number(require("fs").readFileSync(${JSON.stringify(pidfile)},"utf8")))`],
      },
    },
    grains: { roles: ["web"], app: { addr: `127.0.0.1:${h.port}`, url: h.url, dir: h.dir } },
    mine_functions: { app: [{ mine_function: "grains.get" }, "app"] },
    mine_change_events: true,
  };
}

/**
 * Writes `<state>/agents/<id>.yaml` and starts the agent in-process. Its stop is registered at once:
 * a stop while the agent still waits for its key aborts that wait.
 */
async function startDemoAgent(o: ReleaseDemoOptions, id: string, settings: Record<string, unknown>): Promise<{ started: Promise<AgentHandle> }> {
  const file = join(o.stateDir, "agents", `${id}.yaml`);
  await mkdir(join(o.stateDir, "agents"), { recursive: true });
  const nats = o.bootstrapPasswordFile ? { nats: { bootstrap_password_file: o.bootstrapPasswordFile } } : {};
  await writeFile(file, JSON.stringify({ id, state_dir: join(o.stateDir, "agents", id), ...nats, ...settings }, null, 2) + "\n");
  const abort = new AbortController();
  const signal = o.signal ? AbortSignal.any([abort.signal, o.signal]) : abort.signal;
  const started = startAgent({ configPath: file, nats: o.nats, signal, log: o.log.child({ component: "agent" }) });
  void started.catch(() => undefined); // rejections reach whoever awaits `started`, not the process
  o.defer(async () => {
    abort.abort();
    await (await started.catch(() => undefined))?.stop();
  });
  return { started };
}

/** SIGTERM to the app of its pidfile, SIGKILL if it is still there after 5 s. */
async function stopApp(h: WebHost, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(h.dir, "app.pid"), "utf8")).trim());
  } catch {
    return; // not running
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 0 || !alive()) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50 && alive(); i++) await delay(100);
  if (alive()) {
    log.warn({ id: h.id, pid }, "the app did not stop on SIGTERM; killing it");
    process.kill(pid, "SIGKILL");
  }
}

/** Runs an execution function on an in-process agent, as a job of `reactor up`. */
export function runOn(agent: AgentHandle, fun: string, arg: readonly unknown[], kwarg: Record<string, unknown> = {}, timeout = 30): Promise<JobReturn> {
  return agent.executor.run({
    jid: `up-${fun}-${Date.now()}`,
    fun,
    arg,
    kwarg,
    tgt: agent.config.id,
    tgt_type: "list",
    timeout,
    expires: new Date(Date.now() + 60_000).toISOString(),
    user: "up",
  });
}

/** Waits until every id is in backend `app` and not in maintenance; returns those that are not. */
async function waitForRotation(lb: AgentHandle, ids: readonly string[], signal?: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    const live = await inRotation(lb);
    const missing = ids.filter((id) => !live.includes(id));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await delay(500, undefined, signal ? { signal } : {});
  }
}

/** Servers of backend `app` haproxy sends traffic to, read with lb1's haproxy.list_servers. */
async function inRotation(lb: AgentHandle): Promise<string[]> {
  const r = await runOn(lb, "haproxy.list_servers", ["app"], { objectify: true });
  if (!r.success || !Array.isArray(r.return)) return [];
  return (r.return as string[]).flatMap((line) => {
    const m = /^Name: (\S+) Status: (.*?) Weight:/.exec(line);
    return m && !m[2]!.includes("MAINT") ? [m[1]!] : [];
  });
}

/** Polls `probe` until true; throws after the timeout, when `fail` returns an error, or on abort. */
async function poll(
  probe: () => boolean | Promise<boolean>,
  opts: { what: string; timeoutMs: number; intervalMs?: number; fail?: () => Error | undefined; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const err = opts.fail?.();
    if (err) throw err;
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs / 1000} s waiting for ${opts.what}`);
    await delay(opts.intervalMs ?? 50, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the OS does not hand it out again at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}
