/**
 * The stacks the attack tests run against. Each is a small function that starts nats-server, the
 * reactor service (`reactor serve`, a real process) and one agent (`reactor agent`), and hands the
 * test what an attacker and an observer need. The default stack is `reactor up`'s shape (NATS
 * without auth); the secure deployment registers itself here as a second entry.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kvKey, openConnection, openKv, type Connection } from "../../src/bus/index.js";
import { collectStatus } from "../../src/netapi/index.js";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { fixtureDir, startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

/** A running stack under attack. */
export interface AttackStack {
  /** The fixture copy the service runs in (reactor.yaml, service.nk). */
  readonly dir: string;
  readonly agentId: string;
  readonly serviceKeyFile: string;
  /** A connection with the rights an attacker has on this stack (default stack: any local client). */
  attacker(): Promise<Connection>;
  /** A connection that may read stream and consumer state (the test's observer). */
  observer(): Promise<Connection>;
  /** The base URL of the service's webhooks (`http.listen` of the fixture). */
  httpUrl(): Promise<string>;
  /** The service's process output so far (for failure messages). */
  serviceLog(): string;
  /** Stops `reactor serve` (SIGTERM) and starts it again on the same store and key. */
  restartService(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a stack on a fixture directory of test/fixtures. */
export type StackFactory = (fixture: string, opts?: { natsConfig?: string }) => Promise<AttackStack>;

/** The default stack: nats-server without auth, `reactor serve`, agent `web1` (auto-signed by the fixture). */
export const startDefaultStack: StackFactory = async (fixture, opts = {}) => {
  const server: NatsServer = await startNatsServer(opts.natsConfig ? { config: opts.natsConfig } : {});
  const dir = await fixtureDir(fixture);
  const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
  const conns: Connection[] = [];
  const connect = async () => {
    const c = await openConnection({ servers: [server.url] });
    conns.push(c);
    return c;
  };
  let serve: Proc = startServe(dir, env);
  const agentId = "web1";
  let agent: Proc | undefined;
  const stop = async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await Promise.allSettled([agent?.stop(), serve.stop()]);
    await server.stop();
  };
  try {
    await waitFor(() => existsSync(join(dir, "service.nk")), { what: "the service key", timeoutMs: 30_000 });
    agent = await startAgentProc(dir, agentId, env, { job_timeout: 10 });
    const obs = await connect();
    const minions = await openKv(obs, { bucket: "minions" });
    await waitFor(async () => (await minions.get(kvKey(agentId))) !== undefined, {
      what: () => `agent ${agentId} accepted (agent: ${agent?.err().slice(-600) ?? ""})`,
      timeoutMs: 30_000,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    agentId,
    serviceKeyFile: join(dir, "service.nk"),
    attacker: connect,
    observer: connect,
    serviceLog: () => serve.err() + serve.out(),
    async httpUrl() {
      const obs = await connect();
      return waitFor(async () => (await collectStatus(obs, 500)).find((r) => r.http)?.http, { what: "the service's HTTP listener", timeoutMs: 20_000 });
    },
    async restartService() {
      await serve.stop();
      serve = startServe(dir, env);
    },
    stop,
  };
};

/** Every stack the attacks run against: [name, factory]. */
export const STACKS: readonly (readonly [string, StackFactory])[] = [["default (reactor up)", startDefaultStack]];
