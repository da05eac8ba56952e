/**
 * `reactor up`: a complete local stack for trying nats-reactor: nats-server (from PATH, temp
 * store, random loopback port), the reactor service on the example reactor.yaml, and one agent
 * on the example agent.yaml, all logging to one terminal; stopped together. `demo: "release"` adds
 * the seed demo (up-release.ts): haproxy, a load balancer and three web hosts.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage, type Logger } from "../core/index.js";
import { startAgent, type AgentHandle } from "./agent.js";
import { createLogger } from "./logger.js";
import { launchSecureNats } from "./secure-nats.js";
import { startService, type ServiceHandle } from "./service.js";
import { findHaproxy, releaseBanner, runOn, startReleaseDemo, type ReleaseDemo } from "./up-release.js";

/** Options of `reactor up`. */
export interface UpOptions {
  /** reactor.yaml; default the package's reactors/reactor.yaml. */
  readonly config?: string;
  /** agent.yaml; default the package's examples/agent.yaml. */
  readonly agentConfig?: string;
  /** Use this NATS server instead of starting one (the service refuses it if it admits unauthenticated clients, unless `insecureNats`). */
  readonly nats?: string;
  /** With `nats`: accept a server without auth (`--insecure-nats`). */
  readonly insecureNats?: boolean;
  /** Keep state here instead of a temp directory (kept after stop). */
  readonly stateDir?: string;
  readonly noAgent?: boolean;
  /** `release`: also the seed demo (haproxy, lb1, web1..3; up-release.ts). */
  readonly demo?: "release";
  /** The demo haproxy's frontend port; default a free one. */
  readonly haproxyPort?: number;
  /** Aborts the start: what started is stopped and up() rejects. */
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

/** The running stack. */
export interface UpHandle {
  readonly url: string;
  readonly stateDir: string;
  /** With the stack's own nats-server: the bootstrap password file agents of this stack use. */
  readonly bootstrapPasswordFile?: string;
  readonly service: ServiceHandle;
  readonly agent?: AgentHandle;
  /** The seed demo, with `demo: "release"`. */
  readonly release?: ReleaseDemo;
  stop(): Promise<void>;
}

/** The folder holding package.json (works from src/ with tsx and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Starts the stack. On a failure, whatever started is stopped again. */
export async function up(opts: UpOptions = {}): Promise<UpHandle> {
  const root = packageRoot();
  const config = opts.config ? resolve(opts.config) : join(root, "reactors/reactor.yaml");
  const agentConfig = opts.agentConfig ? resolve(opts.agentConfig) : join(root, "examples/agent.yaml");
  // The example agent's service commands are relative to the package root (examples/demo-web.mjs).
  if (!opts.agentConfig) process.chdir(root);
  const log = opts.log ?? createLogger({ base: { app: "reactor-up" } });
  const haproxyBin = opts.demo === "release" ? findHaproxy() : undefined; // before anything starts
  const stateDir = opts.stateDir ? resolve(opts.stateDir) : await mkdtemp(join(tmpdir(), "nats-reactor-up-"));
  await mkdir(stateDir, { recursive: true });
  await mkdir("/tmp/nats-reactor-demo", { recursive: true }).catch(() => undefined); // watched by the example inotify beacon
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log.error({ err: errorMessage(err) }, "stop step failed"));
    if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    let url = opts.nats;
    // The stack's own server runs with the generated auth: only the service, accepted agents (as
    // their own nkey users) and the bootstrap user (the handshake only) get in (docs/security.md).
    let secure: Awaited<ReturnType<typeof launchSecureNats>> | undefined;
    if (!url) {
      secure = await launchSecureNats({ stateDir, serviceKeyFile: join(stateDir, "service.nk") });
      const server = secure.server;
      cleanups.push(() => server.stop());
      url = secure.url;
      log.info({ url, server_pid: server.process.pid, auth: secure.usersFile }, "nats-server started with the generated auth");
    }
    const service = await startService({
      configPath: config,
      nats: url,
      serviceKeyFile: join(stateDir, "service.nk"),
      log: log.child({ component: "service" }),
      ...(secure ? { natsAuth: secure.natsAuth } : {}),
      ...(opts.insecureNats ? { allowInsecureNats: true } : {}),
    });
    const bootstrap = secure ? { bootstrap_password_file: secure.bootstrapPasswordFile } : {};
    cleanups.push(() => service.stop());
    let agent: AgentHandle | undefined;
    if (!opts.noAgent) {
      agent = await startAgent({
        configPath: agentConfig,
        nats: url,
        overrides: { state_dir: join(stateDir, "agent"), ...bootstrap },
        log: log.child({ component: "agent" }),
        // Ctrl-C while the agent waits for its key to be accepted must end the wait (it never exited).
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const a = agent;
      cleanups.push(() => a.stop());
      // The example's demo service runs detached; stop it with the stack rather than leave it on port 8080.
      if (!opts.agentConfig) cleanups.push(() => stopDemoServices(a));
    }
    opts.signal?.throwIfAborted();
    const release = haproxyBin
      ? await startReleaseDemo({
          root,
          stateDir,
          nats: url,
          service,
          haproxyBin,
          ...(secure ? { bootstrapPasswordFile: secure.bootstrapPasswordFile } : {}),
          ...(opts.haproxyPort !== undefined ? { haproxyPort: opts.haproxyPort } : {}),
          log,
          ...(opts.signal ? { signal: opts.signal } : {}),
          defer: (step) => cleanups.push(step),
        })
      : undefined;
    let stopping: Promise<void> | undefined;
    return { url, stateDir, ...(secure ? { bootstrapPasswordFile: secure.bootstrapPasswordFile } : {}), service, ...(agent ? { agent } : {}), ...(release ? { release } : {}), stop: () => (stopping ??= stopAll()) };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What to try next, printed once the stack is up. */
export function upBanner(h: UpHandle): string {
  const id = h.agent?.config.id ?? "demo1";
  return [
    "",
    "nats-reactor is up.",
    `  NATS:    ${h.url}`,
    `  key:     ${h.service.serviceKey.file}   (signs what the CLI sends, and is its NATS user; the reactor ignores unsigned events)`,
    ...(h.bootstrapPasswordFile ? [`  auth:    NATS admits only the service, accepted agents and the handshake (bootstrap password ${h.bootstrapPasswordFile})`] : []),
    `  state:   ${h.stateDir}`,
    `  agent:   ${h.agent ? id : "(none)"}`,
    "",
    "Try, in another terminal:",
    `  export NATS_URL=${h.url} REACTOR_KEY_FILE=${h.service.serviceKey.file} NATS_NKEY=${h.service.serviceKey.file}`,
    "  reactor event watch '*'                           # follow every event",
    `  reactor run '${id}' test.ping                        # remote execution`,
    "  reactor event send myco/hello '{\"who\": \"me\"}'       # fire an event",
    "  reactor test salt/auth '{\"id\": \"web1\", \"act\": \"pend\"}' -c reactors/reactor.yaml   # dry run",
    ...(h.agent ? ["  kill $(cat /tmp/nats-reactor-demo/demo-web.pid)    # the demo service comes back by itself"] : []),
    "",
    ...(h.release ? [...releaseBanner(h.release), ""] : []),
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

async function stopDemoServices(agent: AgentHandle): Promise<void> {
  for (const name of Object.keys(agent.config.services)) await runOn(agent, "service.stop", [name], {}, 10);
}
