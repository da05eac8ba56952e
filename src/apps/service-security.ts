/**
 * The service's security parts (DESIGN.md 2.4): its key pair, the key service (auth handshake,
 * `salt/auth`, `salt/key`, wheel `key.*`), the event verifier the engine asks before matching, and
 * the mine endpoint (`reactor.mine.get`: agents' signed mine reads, under the mine ACL).
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { admitsAnonymous, ensureAgentConsumer, waitForJetStreamSettled, openKv, kvKey, removeAgentJobs, type Connection, type EventPublisher } from "../bus/index.js";
import type { ServiceConfig } from "../config/index.js";
import { signEvent, signJob } from "../core/auth/index.js";
import { BusError, createEvent, errorMessage, type Logger, type ReactorEvent } from "../core/index.js";
import {
  configWriter,
  loadOrCreateBootstrapPassword,
  loadOrCreateServiceKey,
  openKeyStore,
  openReplayStore,
  startEventVerifier,
  startKeyService,
  startNatsAuthSync,
  watchAcceptedKeys,
  type GeneratedKey,
  type NatsAuthSync,
  type ServiceKey,
} from "../keys/index.js";
import { createMineReader, openMineStore, openMinionsStore, purgeAgent, startMineEndpoint } from "../mine/index.js";
import type { RawMessage, ServiceFunction, Verdict } from "../reactor/index.js";

/** What the service gets from its security parts. */
export interface ServiceSecurity {
  readonly serviceKey: ServiceKey;
  /** Signs the service's own events. */
  signEvent(event: ReactorEvent): ReactorEvent;
  /** Signs a job's subject and payload. */
  signJob(subject: string, payload: Uint8Array): string;
  /** Wheel functions `key.*`. */
  readonly wheel: Record<string, ServiceFunction>;
  /** Salt's `key.gen_accept`, for the API's `POST /keys` only (the seed must not reach an event). */
  genAcceptKey(id: string, force: boolean): Promise<GeneratedKey>;
  /** The engine's verify port; undefined when `keys.verify_events` is false. */
  readonly verify?: (event: ReactorEvent, raw?: RawMessage) => Promise<Verdict>;
  stop(): Promise<void>;
}

/** The generated NATS auth the service keeps up to date (docs/security.md). */
export interface NatsAuthSetup {
  /** The `authorization` block the service writes. */
  readonly usersFile: string;
  /** Default `bootstrap.pass` beside the service key. */
  readonly bootstrapPasswordFile?: string;
  /** Makes the server read the file again (SIGHUP). */
  readonly reload: () => Promise<void>;
  /** Tag prefixes agents may send custom events under. */
  readonly customEvents?: readonly string[];
}

/** `nats.auth` of reactor.yaml as a setup: reload by SIGHUP to the pid in `server_pid_file`, if given. */
export function natsAuthFromConfig(config: ServiceConfig): NatsAuthSetup | undefined {
  const a = config.nats.auth;
  if (!a) return undefined;
  return {
    usersFile: a.users_file,
    ...(a.bootstrap_password_file ? { bootstrapPasswordFile: a.bootstrap_password_file } : {}),
    customEvents: a.custom_events,
    reload: async () => {
      if (!a.server_pid_file) return;
      const pid = Number((await readFile(a.server_pid_file, "utf8")).trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new BusError(`${a.server_pid_file} does not hold a pid`);
      process.kill(pid, "SIGHUP");
    },
  };
}

/** The bootstrap password file of a setup. */
export function bootstrapPasswordFile(setup: NatsAuthSetup, serviceKeyFile: string): string {
  return setup.bootstrapPasswordFile ?? join(dirname(serviceKeyFile), "bootstrap.pass");
}

/** The service key's seed (created when missing), to authenticate to NATS as its nkey user. */
export async function serviceSeed(file: string): Promise<string> {
  await loadOrCreateServiceKey(file);
  return (await readFile(file, "utf8")).trim();
}

/**
 * Refuses a NATS server that lets a client in without credentials (any local process could then
 * rewrite keys, read the mine and answer `reactor.auth`), unless the operator allowed it:
 * `allow` (`--insecure-nats`), `nats.insecure: true`, or REACTOR_INSECURE_NATS=1 (the test harness).
 */
export async function refuseInsecureNats(servers: readonly string[], config: ServiceConfig, allow: boolean | undefined, log: Logger): Promise<void> {
  const allowed = allow === true || config.nats.insecure || process.env.REACTOR_INSECURE_NATS === "1";
  if (!(await admitsAnonymous(servers, config.nats.tls))) return;
  if (!allowed) {
    throw new BusError(
      `the NATS server at ${servers.join(", ")} lets clients in without credentials: any local process could then rewrite keys, read every mine value and answer agents' handshakes. ` +
        "Run it with the generated auth (reactor up does; see docs/security.md, `reactor nats config`), or accept the risk on purpose with --insecure-nats or nats.insecure: true",
    );
  }
  log.warn({ servers }, "the NATS server admits unauthenticated clients (allowed by --insecure-nats / nats.insecure / REACTOR_INSECURE_NATS)");
}

/**
 * Runs `fn`, again while nats-server answers that JetStream is not enabled: 2.9.10 says so for a
 * moment while it reloads its config (the SIGHUP after each change of the accepted keys), and a
 * JetStream request made then would otherwise fail for good (an accepted agent without its JOBS
 * consumer waits forever). Up to 15 s, then the last error.
 */
async function whileReloading<T>(fn: () => Promise<T>, deadlineMs = 15_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await fn();
    } catch (err) {
      if (!/jetstream (is )?not enabled/i.test(errorMessage(err)) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Loads (or creates) the service key and starts the key service and the verifier. */
export async function startServiceSecurity(conn: Connection, config: ServiceConfig, publisher: () => EventPublisher, log: Logger, natsAuth?: NatsAuthSetup): Promise<ServiceSecurity> {
  const serviceKey = await loadOrCreateServiceKey(config.keys.service_key);
  log.info({ public_key: serviceKey.publicKey, fingerprint: serviceKey.fingerprint, file: serviceKey.seedFile }, "service key");
  const replicas = config.stream.replicas;
  const store = await openKeyStore(conn, { replicas });
  const minions = await openKv(conn, { bucket: "minions", history: 1, replicas });
  const mine = await openMineStore(conn, { replicas });
  const keyService = await startKeyService({
    conn,
    store,
    policy: config.keys,
    serviceKey,
    adminKeys: config.keys.admin_keys,
    limits: config.keys,
    emit: (tag, data) => publisher().publish(createEvent({ tag, data, source: "reactor" })),
    onDelete: async (id) => {
      await minions.purge(kvKey(id)).catch((err: unknown) => log.warn({ id, err: errorMessage(err) }, "minion record not purged"));
      const n = await purgeAgent(mine, id);
      const jobs = await removeAgentJobs(conn, id).catch((err: unknown) => {
        log.warn({ id, err: errorMessage(err) }, "job consumer not removed");
        return 0;
      });
      log.info({ id, mine_entries: n, queued_jobs: jobs }, "purged a deleted agent's minion record, mine data and job consumer");
    },
    log: log.child({ component: "keys" }),
  });
  // Agents' mine.get: their NATS users may read only their own mine keys, so they ask here (signed).
  // Before the auth sync: its first SIGHUP reload briefly answers JetStream requests with
  // "JetStream not enabled for account" on nats-server 2.9.10.
  const acceptedKeys = await whileReloading(() => watchAcceptedKeys(store, log.child({ component: "mine-endpoint" })));
  const mineEndpoint = await startMineEndpoint({
    conn,
    reader: createMineReader({ mine, minions: await openMinionsStore(conn, { replicas }), log }),
    keys: acceptedKeys,
    log,
  });
  // Every accepted agent gets its JOBS consumer from the service (agents have no consumer rights) and,
  // with the generated auth, its NATS user.
  const authSync: NatsAuthSync = await startNatsAuthSync({
    store,
    onAccepted: (id) => whileReloading(() => ensureAgentConsumer(conn, id)),
    ...(natsAuth
      ? {
          onConfig: configWriter(natsAuth.usersFile, async () => {
            await natsAuth.reload();
            await waitForJetStreamSettled(conn);
          }),
        }
      : {}),
    input: {
      servicePub: serviceKey.publicKey,
      adminKeys: config.keys.admin_keys,
      bootstrapPassword: natsAuth ? await loadOrCreateBootstrapPassword(bootstrapPasswordFile(natsAuth, serviceKey.seedFile)) : "unused-without-generated-auth",
      ...(natsAuth?.customEvents ? { customEvents: natsAuth.customEvents } : {}),
    },
    log,
  });
  const trusted = [serviceKey.publicKey, ...config.keys.admin_keys];
  const verifier = config.keys.verify_events
    ? await startEventVerifier(store, { trusted, maxAgeMs: config.stream.max_age * 1000, log: log.child({ component: "verifier" }) })
    : undefined;
  // the in-memory replay guard forgets at a restart and is per replica: the bucket is neither
  const replay = verifier ? await openReplayStore(conn, { replicas, maxAgeMs: config.stream.max_age * 1000 }) : undefined;
  const wheel: Record<string, ServiceFunction> = {};
  for (const fun of Object.keys(keyService.wheel.functions)) {
    wheel[fun] = async (kwarg) => {
      const r = await keyService.wheel.call(fun, kwarg);
      if (!r.success) throw new Error(r.comment ?? `${fun} failed`);
      return r.return;
    };
  }
  return {
    serviceKey,
    signEvent: (e) => signEvent(e, serviceKey),
    signJob: (subject, payload) => signJob(subject, payload, serviceKey),
    wheel,
    genAcceptKey: (id, force) => keyService.wheel.genAccept(id, force),
    ...(verifier && replay
      ? {
          verify: async (event: ReactorEvent, raw?: RawMessage): Promise<Verdict> => {
            const v = verifier.verify(event, raw?.subject, raw?.payload, raw?.seq);
            if (!v.ok) return { ok: false, kind: v.kind, reason: v.reason };
            if (!(await replay.firstSeen(event.id, raw?.seq ?? -1))) {
              return { ok: false, kind: "replay", reason: `event id ${event.id} was accepted before (replay)` };
            }
            return { ok: true, trusted: v.trusted, ...(v.key !== undefined ? { key: v.key } : {}) };
          },
        }
      : {}),
    async stop() {
      await mineEndpoint.stop();
      await acceptedKeys.stop();
      await keyService.stop();
      await authSync.stop();
      await verifier?.stop();
    },
  };
}
