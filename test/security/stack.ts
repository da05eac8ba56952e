/**
 * The stacks the attacks of test/security/ run against. An attack gets a factory: it starts
 * nats-server, `reactor serve` (real process) on the attack's reactor.yaml and files, and real agents
 * on demand. `STACKS` lists the stacks every attack runs on: the default `reactor up` shape (NATS
 * without authentication, any local client may connect) now; the secure deployment (per-agent
 * credentials) is added here as another factory, and the attacks run against it unchanged.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { openConnection, watchEvents, type Connection } from "../../src/bus/index.js";
import { loadOrCreateIdentity } from "../../src/agent/index.js";
import { createUser } from "@nats-io/nkeys";
import { authProofBytes, signEvent, signerFromSeed, toBase64Url, type Signer } from "../../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { callKeyCommand, loadServiceKey, type KeyCallResult } from "../../src/keys/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { startAgentProc, startCliProc, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

/** What an attack asks for: reactor.yaml (service_key is set by the stack) and files beside it. */
export interface StackSpec {
  readonly reactorYaml: string;
  readonly files?: Readonly<Record<string, string>>;
}

/** A running stack. */
export interface AttackStack {
  readonly name: string;
  readonly dir: string;
  /** Environment of CLI commands run on the service host (NATS URL, service key). */
  readonly env: Readonly<Record<string, string>>;
  /** A NATS connection as an outsider gets one: on this stack, any local client; `as` names the agent whose credentials are used. */
  connect(as?: string): Promise<Connection>;
  /** Starts a real `reactor agent` with this id (agent.yaml fields in `extra`). */
  startAgent(id: string, extra?: Record<string, unknown>): Promise<Proc>;
  /** The key of an agent started here (its seed in its state dir): what a compromised agent holds. */
  agentKey(id: string): Promise<Signer>;
  /** A key command signed with the service key. */
  wheel(fun: string, kwarg?: Record<string, unknown>): Promise<KeyCallResult>;
  /** Every event on the EVENTS stream since the stack started, decoded. */
  readonly events: readonly ReactorEvent[];
  serviceLog(): string;
  stop(): Promise<void>;
}

export type StackFactory = (spec: StackSpec) => Promise<AttackStack>;

/** The default stack: nats-server without auth (as `reactor up` runs it) and `reactor serve`. */
export const startDefaultStack: StackFactory = async (spec) => {
  const nats = await natsForTests();
  const dir = await mkdtemp(join(tmpdir(), "nr-sec-"));
  for (const [name, text] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await writeFile(join(dir, "no-beacons.yaml"), "beacons: {}\n");
  await writeFile(join(dir, "reactor.yaml"), `${spec.reactorYaml}\n`);
  const env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
  const conns: Connection[] = [];
  const procs: Proc[] = [];
  const connect = async () => {
    const c = await openConnection({ servers: [nats.url] });
    conns.push(c);
    return c;
  };
  const serve = startCliProc(["serve", "-c", join(dir, "reactor.yaml")], env);
  procs.push(serve);
  const conn = await connect();
  const enc = new TextEncoder();
  await waitFor(async () => {
    if (serve.child.exitCode !== null) throw new Error(`reactor serve exited: ${serve.err()}`);
    try {
      await conn.nc.request("reactor.auth", enc.encode("{}"), { timeout: 500 });
      return true;
    } catch {
      return false;
    }
  }, { what: `reactor serve answering on reactor.auth (${serve.err().slice(-800)})`, timeoutMs: 60_000, intervalMs: 200 });
  const events: ReactorEvent[] = [];
  const stream = await waitFor(async () => watchEvents(conn, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined }).catch(() => undefined), { what: "the EVENTS stream" });
  void (async () => {
    for await (const d of stream) events.push(d.event);
  })();
  const serviceKey = await waitFor(() => loadServiceKey(env.REACTOR_KEY_FILE).catch(() => undefined), { what: "the service key" });
  let stopping: Promise<void> | undefined;
  return {
    name: "default (reactor up: NATS without auth)",
    dir,
    env,
    connect,
    startAgent: async (id, extra = {}) => {
      const p = await startAgentProc(dir, id, env, extra);
      procs.push(p);
      return p;
    },
    agentKey: (id) => loadOrCreateIdentity(join(dir, `state-${id}`)),
    wheel: (fun, kwarg = {}) => callKeyCommand(conn, fun, kwarg, serviceKey),
    events,
    serviceLog: () => serve.err(),
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled(procs.map((p) => p.stop()));
        await stream.stop().catch(() => undefined);
        await Promise.allSettled(conns.map((c) => c.close()));
        await nats.stop();
      })();
      return stopping;
    },
  };
};

/** The stacks every attack runs against. */
export const STACKS: readonly { readonly name: string; readonly start: StackFactory }[] = [{ name: "the default stack", start: startDefaultStack }];

/** Publishes an event signed with `key` as `source` (a compromised agent, or an outsider with its key). */
export async function sendSigned(conn: Connection, key: Pick<Signer, "sign">, tag: string, data: Record<string, unknown>, source: string): Promise<ReactorEvent> {
  const { createEventPublisher } = await import("../../src/bus/index.js");
  const ev = signEvent(createEvent({ tag, data, source }), key);
  await createEventPublisher(conn, { maxEventBytes: 1 << 20 }).publish(ev);
  return ev;
}

/** Waits until `id` has an accepted key and a minions record (so the service can target it). */
export async function waitAccepted(stack: AttackStack, id: string, agent?: Proc): Promise<void> {
  await waitFor(() => stack.events.some((e) => e.tag === `salt/minion/${id}/start`), {
    what: `agent ${id} accepted and started (agent: ${agent?.err().slice(-800) ?? ""}; service: ${stack.serviceLog().slice(-800)})`,
    timeoutMs: 60_000,
  });
}

const authEnc = new TextEncoder();
const authDec = new TextDecoder();

/** One full handshake (hello + prove), with a fresh key unless one is given, as any NATS client can do it. */
export async function handshake(conn: Connection, id: string, s: Signer = signerFromSeed(createUser().getSeed())): Promise<Record<string, unknown>> {
  const ask = async (body: object) => JSON.parse(authDec.decode((await conn.nc.request("reactor.auth", authEnc.encode(JSON.stringify(body)), { timeout: 5000 })).data)) as Record<string, unknown>;
  const hello = await ask({ op: "hello", id, pub: s.publicKey });
  if (hello["ok"] !== true) return hello;
  const nonce = hello["nonce"] as string;
  return ask({ op: "prove", id, pub: s.publicKey, nonce, sig: toBase64Url(s.sign(authProofBytes(id, s.publicKey, nonce))) });
}
