/**
 * The stacks every attack of test/security/ runs against (issue 13, "Done means"). Both shipped
 * ways of running nats-reactor are attacked, with a real nats-server and real `reactor agent`
 * processes:
 *
 * - "default (reactor up)": what `reactor up` runs (src/apps/up.ts): `launchSecureNats` starts
 *   nats-server with the generated auth, and the service runs as `up` runs it, in the launching
 *   process with `natsAuth` (it rewrites the users file and reloads the server by SIGHUP itself).
 * - "secure (deploy/)": the shipped deployment: nats-server on deploy/nats-server-secure.conf
 *   (only listen, pid_file, store_dir rewritten for a test), the first users file from
 *   `reactor nats config`, and `reactor serve` (a real process) with `nats.auth` in reactor.yaml,
 *   reloading the server through its pid file. TLS stays off (optional in the deployment).
 *
 * Both are the same shape (generated per-agent nkey users, a bootstrap user for the handshake):
 * the unauthenticated shape is gone from `reactor up`, and `reactor serve` refuses it. On both, an
 * attacker holds an agent's own credentials (`connect(id)`: its nkey, its inbox prefix) or, before
 * it is accepted, the bootstrap password (`connect()`); the observer holds the service's.
 */
import { after, before } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { createUser } from "@nats-io/nkeys";
import { createEventPublisher, openConnection, watchEvents, type Connection, type EventStream } from "../../src/bus/index.js";
import { loadOrCreateIdentity } from "../../src/agent/index.js";
import { createLogger } from "../../src/apps/logger.js";
import { launchSecureNats } from "../../src/apps/secure-nats.js";
import { startService, type ServiceHandle } from "../../src/apps/service.js";
import { authProofBytes, signEvent, signerFromSeed, toBase64Url, type Signer } from "../../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { agentInboxPrefix, BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_USER, callKeyCommand, loadServiceKey, type KeyCallResult } from "../../src/keys/index.js";
import { runCli } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";
import { startAgentProc, startCliProc, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

/** What an attack asks for: a fixture folder of test/fixtures, or reactor.yaml text and files beside it. */
export interface StackSpec {
  readonly fixture?: string;
  /** reactor.yaml (keys.service_key: service.nk); the stack appends its `nats:` section. */
  readonly reactorYaml?: string;
  readonly files?: Readonly<Record<string, string>>;
  /** Tag prefixes agents may send custom events under (nats.auth.custom_events). */
  readonly customEvents?: readonly string[];
}

/** A running stack under attack. */
export interface AttackStack {
  readonly name: string;
  /** The folder of reactor.yaml, service.nk and the agents' state. */
  readonly dir: string;
  readonly url: string;
  readonly serviceKeyFile: string;
  /** Environment of CLI commands run on the service host (NATS URL, service key as signing key and NATS nkey). */
  readonly env: Readonly<Record<string, string>>;
  /** An attacker's connection: `as` an agent started here (its nkey and inbox prefix), else the bootstrap user. */
  connect(as?: string): Promise<Connection>;
  /** A connection authenticated by an nkey seed (a key accepted for `id`), with `id`'s inbox prefix. */
  connectKey(seed: string, id: string): Promise<Connection>;
  /** A connection with the service's credentials (reads stream and consumer state). */
  observer(): Promise<Connection>;
  /** Starts a real `reactor agent` with this id (agent.yaml fields in `extra`). */
  startAgent(id: string, extra?: Record<string, unknown>): Promise<Proc>;
  /** The key of an agent started here (its seed in its state dir): what a compromised agent holds. */
  agentKey(id: string): Promise<Signer>;
  /** A key command signed with the service key. */
  wheel(fun: string, kwarg?: Record<string, unknown>): Promise<KeyCallResult>;
  /** Every event on the EVENTS stream since the stack started, decoded. */
  readonly events: readonly ReactorEvent[];
  /** The base URL of the service's webhooks (`http.listen` of reactor.yaml). */
  httpUrl(): Promise<string>;
  serviceLog(): string;
  /** Stops the service and starts it again on the same store, key and users file. */
  restartService(): Promise<void>;
  stop(): Promise<void>;
}

export type StackFactory = (spec: StackSpec) => Promise<AttackStack>;

/** How a stack runs its service: start, log, stop. */
interface ServiceRunner {
  log(): string;
  stop(): Promise<void>;
}

async function prepareDir(spec: StackSpec): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nr-sec-"));
  if (spec.fixture) await cp(join(repoRoot(), "test", "fixtures", spec.fixture), dir, { recursive: true });
  for (const [name, text] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  if (spec.reactorYaml !== undefined) await writeFile(join(dir, "reactor.yaml"), `${spec.reactorYaml}\n`);
  await writeFile(join(dir, "no-beacons.yaml"), "beacons: {}\n");
  return dir;
}

/** What both factories share once NATS and the service run. */
async function assemble(o: {
  name: string;
  dir: string;
  url: string;
  bootstrapPasswordFile: string;
  startService: () => Promise<ServiceRunner>;
  stopNats: () => Promise<void>;
}): Promise<AttackStack> {
  const { dir, url } = o;
  const serviceKeyFile = join(dir, "service.nk");
  const env = { NATS_URL: url, REACTOR_KEY_FILE: serviceKeyFile, NATS_NKEY: serviceKeyFile, REACTOR_INSECURE_NATS: "", REACTOR_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn" };
  const conns: Connection[] = [];
  const procs: Proc[] = [];
  const track = async (p: Promise<Connection>) => {
    const c = await p;
    conns.push(c);
    return c;
  };
  const seedOf = async (file: string) => (await readFile(file, "utf8")).trim();
  const observer = async () => track(openConnection({ servers: [url], name: "observer (service key)", nkeySeed: await seedOf(serviceKeyFile) }));
  const connect = async (as?: string) =>
    track(
      as === undefined
        ? openConnection({ servers: [url], name: "attacker (bootstrap)", user: { name: BOOTSTRAP_USER, password: await seedOf(o.bootstrapPasswordFile) }, inboxPrefix: BOOTSTRAP_INBOX_PREFIX, checkJetStream: false })
        : openConnection({ servers: [url], name: `attacker as ${as}`, nkeySeed: await seedOf(join(dir, `state-${as}`, "agent.nk")), inboxPrefix: agentInboxPrefix(as), checkJetStream: false }),
    );
  let service: ServiceRunner | undefined;
  let stream: EventStream | undefined;
  const stop = async () => {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await stream?.stop().catch(() => undefined);
    await Promise.allSettled(conns.map((c) => c.close()));
    await service?.stop().catch(() => undefined);
    await o.stopNats();
  };
  const events: ReactorEvent[] = [];
  let obs: Connection;
  try {
    service = await o.startService();
    const s = service;
    obs = await observer();
    const enc = new TextEncoder();
    await waitFor(
      async () => {
        try {
          await obs.nc.request("reactor.auth", enc.encode("{}"), { timeout: 500 });
          return true;
        } catch {
          return false;
        }
      },
      { what: () => `the service answering on reactor.auth (${s.log().slice(-800)})`, timeoutMs: 60_000, intervalMs: 200 },
    );
    stream = await waitFor(() => watchEvents(obs, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined }).catch(() => undefined), { what: "the EVENTS stream" });
    const st = stream;
    void (async () => {
      for await (const d of st) events.push(d.event);
    })();
  } catch (err) {
    await stop();
    throw err;
  }
  const serviceKey = await loadServiceKey(serviceKeyFile);
  let stopping: Promise<void> | undefined;
  return {
    name: o.name,
    dir,
    url,
    serviceKeyFile,
    env,
    connect,
    connectKey: (seed, id) => track(openConnection({ servers: [url], name: `attacker with a key of ${id}`, nkeySeed: seed, inboxPrefix: agentInboxPrefix(id), checkJetStream: false, timeoutMs: 3000 })),
    observer,
    startAgent: async (id, extra = {}) => {
      const p = await startAgentProc(dir, id, env, { nats: { servers: [url], bootstrap_password_file: o.bootstrapPasswordFile }, ...extra });
      procs.push(p);
      return p;
    },
    agentKey: (id) => loadOrCreateIdentity(join(dir, `state-${id}`)),
    wheel: (fun, kwarg = {}) => callKeyCommand(obs, fun, kwarg, serviceKey),
    events,
    serviceLog: () => service?.log() ?? "",
    async httpUrl() {
      const { collectStatus } = await import("../../src/netapi/index.js");
      return waitFor(async () => (await collectStatus(obs, 500)).find((r) => r.http)?.http, { what: "the service's HTTP listener", timeoutMs: 20_000 });
    },
    async restartService() {
      await service?.stop();
      service = await o.startService();
    },
    stop: () => (stopping ??= stop()),
  };
}

/** The default stack: nats-server and the service as `reactor up` starts them (src/apps/up.ts). */
export const startUpStack: StackFactory = async (spec) => {
  const dir = await prepareDir(spec);
  const secure = await launchSecureNats({ stateDir: dir, serviceKeyFile: join(dir, "service.nk"), ...(spec.customEvents ? { customEvents: spec.customEvents } : {}) });
  let text = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text = (text + chunk.toString()).slice(-200_000);
      done();
    },
  });
  const log = createLogger({ level: process.env.E2E_LOG_LEVEL ?? "warn", destination: sink, pretty: false });
  return assemble({
    name: "default (reactor up: launchSecureNats, service in-process)",
    dir,
    url: secure.url,
    bootstrapPasswordFile: secure.bootstrapPasswordFile,
    startService: async () => {
      const h: ServiceHandle = await startService({ configPath: join(dir, "reactor.yaml"), nats: secure.url, serviceKeyFile: join(dir, "service.nk"), natsAuth: secure.natsAuth, allowInsecureNats: false, log });
      return { log: () => text, stop: () => h.stop() };
    },
    stopNats: async () => {
      await secure.server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
};

/** Starts nats-server on `conf` (a config file), on a free loopback port; stopped by PID. */
async function launchConf(conf: string): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const portsDir = dirname(conf);
  let output = "";
  const child = spawn(process.env.NATS_SERVER_BIN ?? "nats-server", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  child.stderr?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  const port = await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${output}`);
      const f = (await readdir(portsDir)).find((n) => n.endsWith(".ports"));
      if (!f) return undefined;
      const ports = JSON.parse(await readFile(join(portsDir, f), "utf8")) as { nats?: string[] };
      return ports.nats?.[0] ? Number(new URL(ports.nats[0]).port) : undefined;
    },
    { what: () => `nats-server on ${conf} to listen (${output})`, timeoutMs: 15_000, intervalMs: 50 },
  );
  return { url: `nats://127.0.0.1:${port}`, child, stop };
}

/** The secure deployment: deploy/nats-server-secure.conf, `reactor nats config`, `reactor serve`. */
export const startDeployStack: StackFactory = async (spec) => {
  const dir = await prepareDir(spec);
  const natsDir = join(dir, "nats");
  await mkdir(natsDir, { recursive: true });
  const pidFile = join(natsDir, "nats-server.pid");
  const bootstrap = join(dir, "bootstrap.pass");
  // reactor.yaml as the deploy comment says; everything else is the attack's own.
  await appendFile(join(dir, "reactor.yaml"), `\nnats:\n  auth:\n    users_file: ${join(natsDir, "reactor-auth.conf")}\n    bootstrap_password_file: ${bootstrap}\n    server_pid_file: ${pidFile}\n${spec.customEvents ? `    custom_events: ${JSON.stringify(spec.customEvents)}\n` : ""}`);
  const first = await runCli(["nats", "config", "-c", join(dir, "reactor.yaml")], { REACTOR_LOG_LEVEL: "warn" });
  if (first.code !== 0) throw new Error(`reactor nats config failed: ${first.stderr}`);
  await writeFile(join(natsDir, "reactor-auth.conf"), first.stdout, { mode: 0o600 });
  const shipped = await readFile(join(repoRoot(), "deploy", "nats-server-secure.conf"), "utf8");
  const conf = shipped
    .replace(/^listen: .*$/m, 'listen: "127.0.0.1:-1"')
    .replace(/^pid_file: .*$/m, `pid_file: ${JSON.stringify(pidFile)}\nports_file_dir: ${JSON.stringify(natsDir)}`)
    .replace(/store_dir: "[^"]*"/, `store_dir: ${JSON.stringify(join(natsDir, "js"))}`);
  if (conf === shipped || !conf.includes('include "reactor-auth.conf"')) throw new Error("deploy/nats-server-secure.conf changed shape: update test/security/stacks.ts");
  await writeFile(join(natsDir, "nats-server.conf"), conf);
  const server = await launchConf(join(natsDir, "nats-server.conf"));
  const env = { NATS_URL: server.url, REACTOR_INSECURE_NATS: "", REACTOR_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn" };
  return assemble({
    name: "secure (deploy/nats-server-secure.conf, reactor serve)",
    dir,
    url: server.url,
    bootstrapPasswordFile: bootstrap,
    startService: async () => {
      const p = startCliProc(["serve", "-c", join(dir, "reactor.yaml")], env);
      return { log: () => p.err() + p.out(), stop: () => p.stop() };
    },
    stopNats: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
};

/** The stacks every attack runs against. */
export const STACKS: readonly { readonly name: string; readonly start: StackFactory }[] = [
  { name: "default (reactor up)", start: startUpStack },
  { name: "secure (deploy/)", start: startDeployStack },
];

/** Publishes an event signed with `key` as `source` (a compromised agent, or an outsider with its key). */
export async function sendSigned(conn: Connection, key: Pick<Signer, "sign">, tag: string, data: Record<string, unknown>, source: string): Promise<ReactorEvent> {
  const ev = signEvent(createEvent({ tag, data, source }), key);
  await createEventPublisher(conn, { maxEventBytes: 1 << 20 }).publish(ev);
  return ev;
}

/** Waits until `id` has an accepted key and has started (so the service can target it). */
export async function waitAccepted(stack: AttackStack, id: string, agent?: Proc): Promise<void> {
  await waitFor(() => stack.events.some((e) => e.tag === `salt/minion/${id}/start`), {
    what: () => `agent ${id} accepted and started (agent: ${agent?.err().slice(-800) ?? ""}; service: ${stack.serviceLog().slice(-800)})`,
    timeoutMs: 60_000,
  });
}

/** Starts agent `id` and waits until it is accepted and started. */
export async function startAccepted(stack: AttackStack, id: string, extra?: Record<string, unknown>): Promise<Proc> {
  const p = await stack.startAgent(id, extra);
  await waitAccepted(stack, id, p);
  return p;
}

const authEnc = new TextEncoder();
const authDec = new TextDecoder();

/** One full handshake (hello + prove), with a fresh key unless one is given, as any client allowed on reactor.auth can do it. */
export async function handshake(conn: Connection, id: string, s: Signer = signerFromSeed(createUser().getSeed())): Promise<Record<string, unknown>> {
  const ask = async (body: object) => JSON.parse(authDec.decode((await conn.nc.request("reactor.auth", authEnc.encode(JSON.stringify(body)), { timeout: 5000 })).data)) as Record<string, unknown>;
  const hello = await ask({ op: "hello", id, pub: s.publicKey });
  if (hello["ok"] !== true) return hello;
  const nonce = hello["nonce"] as string;
  return ask({ op: "prove", id, pub: s.publicKey, nonce, sig: toBase64Url(s.sign(authProofBytes(id, s.publicKey, nonce))) });
}

/** Asserts the server refuses `publish` with a permissions violation (the attack was attempted and refused). */
export async function refusedByServer(publish: () => Promise<unknown>, subject: string): Promise<void> {
  const { strict: assert } = await import("node:assert");
  await assert.rejects(publish(), (e: unknown) => /permissions violation/i.test(String(e)), `the server refuses a publish on ${subject}`);
}

/** What `watchedStack` hands an attack: the stack, an observer connection, and every event stored since it started. */
export interface WatchedStack {
  readonly stack: AttackStack;
  readonly obs: Connection;
  readonly seen: ReactorEvent[];
}

/**
 * The set-up several attacks share, as node:test hooks of the calling `describe`: a stack on the
 * `security` fixture with `agent` accepted, an observer, and a watch that collects every stored event.
 */
export function watchedStack(start: StackFactory, agent: string, settings: Record<string, unknown>): WatchedStack {
  const ctx = { seen: [] as ReactorEvent[] } as { stack: AttackStack; obs: Connection; seen: ReactorEvent[] };
  let watch: EventStream | undefined;
  before(async () => {
    ctx.stack = await start({ fixture: "security" });
    await startAccepted(ctx.stack, agent, settings);
    ctx.obs = await ctx.stack.observer();
    const w = await watchEvents(ctx.obs, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    watch = w;
    void (async () => {
      for await (const d of w) ctx.seen.push(d.event);
    })();
  });
  after(async () => {
    await watch?.stop();
    await ctx.stack?.stop();
  });
  return ctx;
}
