/**
 * The service's security parts (DESIGN.md 2.4): its key pair, the key service (auth handshake,
 * `salt/auth`, `salt/key`, wheel `key.*`), and the event verifier the engine asks before matching.
 */
import { openKv, kvKey, removeAgentJobs, type Connection, type EventPublisher } from "../bus/index.js";
import type { ServiceConfig } from "../config/index.js";
import { signEvent, signJob } from "../core/auth/index.js";
import { createEvent, errorMessage, type Logger, type ReactorEvent } from "../core/index.js";
import { loadOrCreateServiceKey, openKeyStore, openReplayStore, startEventVerifier, startKeyService, type ServiceKey } from "../keys/index.js";
import { openMineStore, purgeAgent } from "../mine/index.js";
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
  /** The engine's verify port; undefined when `keys.verify_events` is false. */
  readonly verify?: (event: ReactorEvent, raw?: RawMessage) => Promise<Verdict>;
  stop(): Promise<void>;
}

/** Loads (or creates) the service key and starts the key service and the verifier. */
export async function startServiceSecurity(conn: Connection, config: ServiceConfig, publisher: () => EventPublisher, log: Logger): Promise<ServiceSecurity> {
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
      await keyService.stop();
      await verifier?.stop();
    },
  };
}
