/**
 * The shipped secure deployment, started for attack tests: a real nats-server with the generated
 * auth (src/apps/secure-nats.ts, what `reactor up` runs), the reactor service in-process with
 * `natsAuth` (it writes the users file and reloads the server as keys are accepted), and N real
 * agents in-process, each authenticating to NATS as its own nkey user after a bootstrap handshake.
 *
 * API:
 *   const s = await startSecureStack({ agents: ["web1", "web2"] });
 *   s.url, s.stateDir, s.service (ServiceHandle), s.agents.get("web1") (AgentHandle)
 *   s.seed("web1")           the agent's nkey seed (its NATS user and its event-signing key)
 *   await s.connectAs("web1") a raw client with web1's credentials and web1's inbox prefix
 *                            (attack as that agent; `opts.inboxPrefix` to try another prefix)
 *   await s.connectBootstrap() a raw client as the bootstrap user
 *   await s.connectService() a raw client as the service (full rights)
 *   await s.anonymous()      a raw connect with no credentials: rejects on this stack
 *   await s.stop()           agents, service, server; removes the state dir
 * Options: `agents` (ids, default ["web1", "web2"], accepted by autosign), `fixture` (a folder of
 * test/fixtures with reactor.yaml, default "service"), `agentSettings(id)` (extra agent.yaml fields).
 * Raw clients never reconnect and are closed by stop() if still open.
 * The stack does not set REACTOR_INSECURE_NATS for its service: it must pass the refusal check.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  connect,
  nkeyAuthenticator,
  usernamePasswordAuthenticator,
  type NatsConnection,
} from "@nats-io/transport-node";
import { startAgent, type AgentHandle } from "../../src/apps/agent.js";
import { createLogger } from "../../src/apps/logger.js";
import { launchSecureNats, type SecureNats } from "../../src/apps/secure-nats.js";
import { startService, type ServiceHandle } from "../../src/apps/service.js";
import { BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_USER, agentInboxPrefix } from "../../src/keys/index.js";
import { fixtureDir } from "./stack.js";

export interface SecureStackOptions {
  readonly agents?: readonly string[];
  readonly fixture?: string;
  readonly agentSettings?: (id: string) => Record<string, unknown>;
  readonly logLevel?: string;
}

export interface SecureStack {
  readonly url: string;
  readonly stateDir: string;
  readonly nats: SecureNats;
  readonly service: ServiceHandle;
  readonly agents: ReadonlyMap<string, AgentHandle>;
  seed(id: string): Promise<string>;
  connectAs(id: string, opts?: { inboxPrefix?: string }): Promise<NatsConnection>;
  connectBootstrap(): Promise<NatsConnection>;
  connectService(): Promise<NatsConnection>;
  anonymous(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export async function startSecureStack(o: SecureStackOptions = {}): Promise<SecureStack> {
  const ids = o.agents ?? ["web1", "web2"];
  const dir = await fixtureDir(o.fixture ?? "service");
  const log = createLogger({ level: o.logLevel ?? process.env.SECURE_STACK_LOG_LEVEL ?? "error" });
  // Accept the stack's agents by autosign (the rest of the fixture's reactor.yaml as it is).
  const yamlFile = join(dir, "reactor.yaml");
  const yaml = await readFile(yamlFile, "utf8");
  await writeFile(
    yamlFile,
    yaml.replace(/^keys:.*$/m, "") +
      `\nkeys: { service_key: service.nk, autosign: ${JSON.stringify(ids)} }\n`,
  );
  const nats = await launchSecureNats({
    stateDir: join(dir, "secure"),
    serviceKeyFile: join(dir, "service.nk"),
  });
  const raw: NatsConnection[] = [];
  const agents = new Map<string, AgentHandle>();
  let service: ServiceHandle | undefined;
  const stop = async () => {
    for (const c of raw) await c.close().catch(() => undefined);
    for (const a of agents.values()) await a.stop().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await nats.server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    service = await startService({
      configPath: yamlFile,
      nats: nats.url,
      natsAuth: nats.natsAuth,
      allowInsecureNats: false,
      log,
    });
    const started = await Promise.all(
      ids.map(async (id) => {
        const file = join(dir, `agent-${id}.yaml`);
        const settings = {
          id,
          state_dir: join(dir, `state-${id}`),
          beacons_file: join(dir, "no-beacons.yaml"),
          nats: { servers: [nats.url], bootstrap_password_file: nats.bootstrapPasswordFile },
          ...o.agentSettings?.(id),
        };
        await writeFile(file, JSON.stringify(settings));
        return [id, await startAgent({ configPath: file, log })] as const;
      }),
    );
    for (const [id, a] of started) agents.set(id, a);
  } catch (err) {
    await stop();
    throw err;
  }
  const track = async (p: Promise<NatsConnection>) => {
    const c = await p;
    raw.push(c);
    return c;
  };
  const base = { servers: [nats.url], reconnect: false, maxReconnectAttempts: 0, timeout: 5000 };
  const seed = async (id: string) => (await readFile(join(dir, `state-${id}`, "agent.nk"), "utf8")).trim();
  const serviceSeed = async () => (await readFile(nats.serviceKeyFile, "utf8")).trim();
  return {
    url: nats.url,
    stateDir: dir,
    nats,
    service: service,
    agents,
    seed,
    connectAs: async (id, opts = {}) =>
      track(
        connect({
          ...base,
          name: `attacker as ${id}`,
          inboxPrefix: opts.inboxPrefix ?? agentInboxPrefix(id),
          authenticator: nkeyAuthenticator(new TextEncoder().encode(await seed(id))),
        }),
      ),
    connectBootstrap: async () =>
      track(
        connect({
          ...base,
          name: "attacker as bootstrap",
          inboxPrefix: BOOTSTRAP_INBOX_PREFIX,
          authenticator: usernamePasswordAuthenticator(
            BOOTSTRAP_USER,
            (await readFile(nats.bootstrapPasswordFile, "utf8")).trim(),
          ),
        }),
      ),
    connectService: async () =>
      track(
        connect({
          ...base,
          name: "service (test)",
          authenticator: nkeyAuthenticator(new TextEncoder().encode(await serviceSeed())),
        }),
      ),
    anonymous: () => track(connect({ ...base, name: "anonymous" })),
    stop,
  };
}
