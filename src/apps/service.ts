/**
 * Composition root of `reactor serve`: loads reactor.yaml, connects, creates the streams and
 * buckets, and runs the engine on the durable consumer with bounded concurrency. Every event is
 * acknowledged only after its reactions are dispatched and recorded.
 */
import {
  consumeDurable,
  createEventPublisher,
  ensureDurable,
  ensureEventStream,
  ensureJobStream,
  openConnection,
  openKv,
  publishJob,
  type Connection,
  type EventStream,
  type EventStreamSettings,
} from "../bus/index.js";
import { loadServiceConfig, type ServiceConfig } from "../config/index.js";
import { createEvent, errorMessage, type Logger, type ReactorEvent } from "../core/index.js";
import { engineConfig, ReactionLedger, ReactorEngine, Throttler, type DispatchPorts, type ServiceFunction } from "../reactor/index.js";
import { hostname } from "node:os";
import { serveStatus } from "../netapi/index.js";
import { publisherSink, startServiceHttp, type ServiceHttp } from "./http.js";
import { consumerLag } from "./metrics.js";
import { ConsumerSupervisor } from "./consumer-supervisor.js";
import { resolveServers } from "./client.js";
import { natsAuthFromConfig, refuseInsecureNats, serviceSeed, startServiceSecurity, type NatsAuthSetup } from "./service-security.js";
import { createMineCache, templateMine, createMineReader, openMineStore, openMinionsStore } from "../mine/index.js";
import { createLogger } from "./logger.js";
import { openMinionDirectory, type MinionDirectory } from "./minion-directory.js";
import { createOrchestratePorts } from "./orchestrate-ports.js";
import { orchestrateRunner } from "./orchestrate-runner.js";
import type { OrchestratePorts } from "../orchestrate/index.js";
import { startServiceApi } from "./api.js";
import { startFileServer } from "./fileserver.js";
import type { FileSync } from "../fileserver/index.js";

/** Options of the service process. */
export interface ServiceOptions {
  readonly configPath: string;
  /** `--nats URL` (else NATS_URL, else the config file). */
  readonly nats?: string;
  readonly log?: Logger;
  /** Extra runner and wheel functions (orchestration, keys, mine) registered by the caller. */
  readonly runners?: Record<string, ServiceFunction>;
  readonly wheel?: Record<string, ServiceFunction>;
  /** Use this key file instead of `keys.service_key` (`reactor up` keeps one per stack). */
  readonly serviceKeyFile?: string;
  /** The generated NATS auth, over `nats.auth` of reactor.yaml (`reactor up` reloads its own server). */
  readonly natsAuth?: NatsAuthSetup;
  /** Accept a NATS server that admits unauthenticated clients (`--insecure-nats`; also `nats.insecure`, REACTOR_INSECURE_NATS=1). */
  readonly allowInsecureNats?: boolean;
}

/** A running service. */
export interface ServiceHandle {
  readonly engine: ReactorEngine;
  /** The HTTP listeners (webhooks/events, metrics/health) when configured. */
  readonly web: ServiceHttp;
  /** The REST API (`rest_cherrypy:`), when configured. */
  readonly api?: { readonly url: string };
  readonly conn: Connection;
  readonly minions: MinionDirectory;
  /** The service's public key and its key file. */
  readonly serviceKey: { readonly publicKey: string; readonly file: string };
  /** Re-reads reactor.yaml; a bad file leaves the running map in place and throws. */
  reload(): Promise<void>;
  /** Stops consuming, waits for events in progress, closes. Idempotent. */
  stop(): Promise<void>;
}

/** Stream settings from the service config. */
export function streamSettings(config: ServiceConfig): EventStreamSettings {
  return {
    name: config.stream.name,
    replicas: config.stream.replicas,
    maxAgeMs: config.stream.max_age * 1000,
    maxBytes: config.stream.max_bytes,
    duplicateWindowMs: config.stream.duplicate_window * 1000,
    storage: config.stream.storage,
    maxEventBytes: config.limits.max_event_bytes,
  };
}

/** Starts the reactor service. */
export async function startService(opts: ServiceOptions): Promise<ServiceHandle> {
  const loaded = await loadServiceConfig(opts.configPath);
  const config: ServiceConfig = opts.serviceKeyFile ? { ...loaded, keys: { ...loaded.keys, service_key: opts.serviceKeyFile } } : loaded;
  const log = opts.log ?? createLogger({ level: config.logging.level, base: { app: "reactor-service" } });
  const servers = resolveServers(opts.nats, config.nats.servers);
  const natsAuth = opts.natsAuth ?? natsAuthFromConfig(config);
  const conn = await openConnection({
    servers,
    name: config.nats.name ?? "reactor-service",
    log: log.child({ component: "nats" }),
    ...(config.nats.creds ? { creds: config.nats.creds } : natsAuth ? { nkeySeed: await serviceSeed(config.keys.service_key) } : {}),
    ...(config.nats.tls ? { tls: config.nats.tls } : {}),
  });
  // A start that fails half-way (an insecure server, a stream the server refuses, a port in use)
  // must not leave the connection open: it would keep the process alive after the error was printed.
  try {
    await refuseInsecureNats(servers, config, opts.allowInsecureNats, log);
    return await startOnConnection(opts, config, log, servers, conn, natsAuth);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

async function startOnConnection(
  opts: ServiceOptions,
  config: ServiceConfig,
  log: Logger,
  servers: string[],
  conn: Connection,
  natsAuth: NatsAuthSetup | undefined,
): Promise<ServiceHandle> {
  const settings = streamSettings(config);
  await ensureEventStream(conn, settings);
  await ensureJobStream(conn, { replicas: config.stream.replicas });
  const replicas = config.stream.replicas;
  const ledger = new ReactionLedger(await openKv(conn, { bucket: "reactions", history: 1, replicas, maxAgeMs: config.stream.max_age * 1000 }));
  const throttler = new Throttler(await openKv(conn, { bucket: "reactions", history: 1, replicas, maxAgeMs: config.stream.max_age * 1000 }));
  const minions = await openMinionDirectory(conn, { replicas, log });
  // salt:// files for the agents (DESIGN.md 11.4); the buckets exist even with no file_roots.
  const startFiles = (roots: ServiceConfig["file_roots"]) => startFileServer(conn, { roots, replicas, log });
  let files: { roots: string; sync: FileSync } = { roots: JSON.stringify(config.file_roots), sync: await startFiles(config.file_roots) };
  // The publisher signs with the service key, which the security parts load: a holder breaks the cycle.
  const signer: { sign?: (e: ReactorEvent) => ReactorEvent } = {};
  const publisher = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes, sign: (e) => (signer.sign ? signer.sign(e) : e) });
  const security = await startServiceSecurity(conn, config, () => publisher, log, natsAuth);
  signer.sign = security.signEvent;

  const emit = async (tag: string, data: Record<string, unknown>, id: string, cause: ReactorEvent) => {
    await publisher.publish(createEvent({ tag, data, id, source: "reactor", causationId: cause.id, depth: cause.depth + 1 }));
  };
  const runners: Record<string, ServiceFunction> = { ...builtinRunners(emit), ...opts.runners };
  const wheel: Record<string, ServiceFunction> = { ...security.wheel, ...opts.wheel };
  const background = new Set<Promise<unknown>>();
  const abandon = new AbortController(); // aborted by stop(): runs in progress end without waiting out their steps
  let orchPorts: Promise<OrchestratePorts> | undefined;
  const callTable = (table: Record<string, ServiceFunction>) => async (fun: string, kwarg: Readonly<Record<string, unknown>>) => {
    const fn = Object.hasOwn(table, fun) ? table[fun] : undefined;
    if (!fn) throw new Error(`'${fun}' is not available`);
    const cause = createEvent({ tag: "reactor/orchestrate/call", source: "reactor" });
    return fn(kwarg, { jid: `orch-${Date.now()}`, event: cause, arg: [] });
  };
  // The `mine` helper of reactor and orchestration templates: a live in-memory copy of the mine (templates render synchronously).
  const mineCache = await createMineCache(
    createMineReader({ mine: await openMineStore(conn, { replicas }), minions: await openMinionsStore(conn, { replicas }), log }),
  );
  const mine = templateMine(mineCache);
  runners["state.orchestrate"] = orchestrateRunner({
    mine,
    configFile: opts.configPath,
    log: log.child({ component: "orchestrate" }),
    runs: background,
    signal: abandon.signal,
    ports: () =>
      (orchPorts ??= createOrchestratePorts({
        conn,
        publisher,
        streamName: settings.name,
        maxEventBytes: settings.maxEventBytes,
        minions,
        user: "reactor",
        replicas,
        signJob: security.signJob,
        runner: callTable(runners),
        wheel: callTable(wheel),
      })),
  });
  const ports: DispatchPorts = {
    resolveTargets: async (tgt, tgtType) => minions.resolve(tgt, tgtType),
    publishJob: async (agentId, job) => void (await publishJob(conn, agentId, job, security.signJob)),
    emit: (tag, data, o) => emit(tag, data, o.id, o.cause),
    runners,
    wheel,
  };
  const engine = new ReactorEngine(engineConfig(config), {
    mine,
    ledger,
    throttler,
    ports,
    audit: emit,
    report: async (tag, data) => void (await publisher.publish(createEvent({ tag, data, source: "reactor" }))),
    ...(security.verify ? { verify: security.verify } : {}),
    log: log.child({ component: "engine" }),
    dispatchRetries: config.limits.dispatch_retries,
  });

  await ensureDurable(conn, settings.name, {
    durable: config.consumer.durable,
    filter: "evt.>",
    ackWaitMs: config.consumer.ack_wait * 1000,
    maxDeliver: config.consumer.max_deliver,
    maxAckPending: config.consumer.max_ack_pending,
  });
  const consume = () =>
    consumeDurable(conn, settings.name, config.consumer.durable, {
      maxEventBytes: settings.maxEventBytes,
      batch: Math.min(256, config.limits.concurrency * 4),
      // terminated by the bus already; counted, and summed up in one reactor/bus/invalid event a second
      onInvalid: (bad) => {
        log.debug({ subject: bad.subject.slice(0, 200), seq: bad.seq, kind: bad.kind, reason: bad.reason }, "skipped a message that is not a valid event");
        engine.noteInvalid(bad.kind, bad.subject);
      },
    });
  const reportTimer = setInterval(() => {
    engine.flushReports().catch((err: unknown) => log.warn({ err: errorMessage(err) }, "summary report not published"));
  }, 1000);
  reportTimer.unref();
  const lag = consumerLag(conn, settings.name, config.consumer.durable);
  const supervisor = new ConsumerSupervisor(consume, log, async () => {
    const l = await lag();
    return l.pending + l.ackPending;
  });
  const web = await startServiceHttp({
    conn,
    counters: () => engine.counters as unknown as Record<string, number>,
    sink: publisherSink(publisher),
    stream: settings.name,
    durable: config.consumer.durable,
    maxEventBytes: settings.maxEventBytes,
    ...(config.http ? { http: config.http } : {}),
    ...(config.metrics.listen !== undefined ? { metricsListen: config.metrics.listen } : {}),
    log,
  });
  const api = config.api
    ? await startServiceApi(config.api, {
        conn,
        publisher,
        signJob: security.signJob,
        streamName: settings.name,
        maxEventBytes: settings.maxEventBytes,
        runners,
        wheel,
        genAcceptKey: security.genAcceptKey,
        servicePub: security.serviceKey.publicKey,
        replicas,
        ...(config.http ? { http: config.http } : {}),
        sink: publisherSink(publisher),
        log,
      }).catch(async (err: unknown) => {
        await web.stop();
        throw err;
      })
    : undefined;
  const startedAt = new Date().toISOString();
  const status = serveStatus(
    conn,
    () => ({
      instance: `${hostname()}:${process.pid}`,
      host: hostname(),
      pid: process.pid,
      started: startedAt,
      stream: settings.name,
      durable: config.consumer.durable,
      counters: { ...engine.counters },
      ...(web.http ? { http: web.http.url } : {}),
      ...(web.metricsServer ? { metrics: web.metricsServer.url } : {}),
      ...(api ? { api: api.url } : {}),
    }),
    log,
  );
  const loop = supervisor.run((stream) => runLoop(stream, engine, config.limits.concurrency, log, (s) => web.metrics?.observeHandling(s)));
  log.info({ servers, entries: config.reactor.length, durable: config.consumer.durable }, "reactor service started");

  let stopping: Promise<void> | undefined;
  return {
    engine,
    web,
    ...(api ? { api: { url: api.url } } : {}),
    conn,
    serviceKey: { publicKey: security.serviceKey.publicKey, file: security.serviceKey.seedFile },
    minions,
    async reload() {
      const next = await loadServiceConfig(opts.configPath);
      engine.reload(engineConfig(next));
      if (JSON.stringify(next.file_roots) !== files.roots) {
        await files.sync.stop();
        files = { roots: JSON.stringify(next.file_roots), sync: await startFiles(next.file_roots) };
      }
      log.info({ entries: next.reactor.length }, "reactor map reloaded");
    },
    stop() {
      stopping ??= (async () => {
        const steps: [string, () => Promise<unknown>][] = [
          ["http", () => web.stop()],
          ["api", async () => api?.stop()],
          ["status responder", async () => status.stop()],
          ["consumer", () => supervisor.stop()],
          ["in-flight events", () => loop],
          [
            "summary reports",
            () => {
              clearInterval(reportTimer);
              return engine.flushReports();
            },
          ],
          [
            "orchestration runs",
            () => {
              abandon.abort();
              return Promise.allSettled([...background]);
            },
          ],
          ["minions watch", async () => minions.stop()],
          ["file server sync", () => files.sync.stop()],
          ["key service", () => security.stop()],
          ["mine cache", async () => mineCache.stop()],
          ["connection", () => conn.close()],
        ];
        for (const [what, step] of steps) {
          await step().catch((err: unknown) => log.error({ err: errorMessage(err) }, `stopping ${what} failed`));
        }
        log.info({ counters: engine.counters }, "reactor service stopped");
      })();
      return stopping;
    },
  };
}

/** Consumes with at most `concurrency` events in progress; acks after handling, naks on bus errors. */
async function runLoop(stream: EventStream, engine: ReactorEngine, concurrency: number, log: Logger, observe: (seconds: number) => void): Promise<void> {
  const inflight = new Set<Promise<void>>();
  for await (const d of stream) {
    const t0 = process.hrtime.bigint();
    const p = engine.handle(d.event, { subject: d.subject, payload: d.payload, seq: d.seq }).then(
      () => {
        d.ack();
        observe(Number(process.hrtime.bigint() - t0) / 1e9);
      },
      (err: unknown) => {
        log.error({ err: errorMessage(err), event_id: d.event.id, tag: d.event.tag, delivery: d.deliveryCount }, "event handling failed; will be redelivered");
        // bus trouble (a leader election lasts seconds): come back soon, never later than 5 s
        d.nak(Math.min(5_000, 250 * 2 ** d.deliveryCount));
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

/** Runners every service has: `event.send`. */
function builtinRunners(emit: (tag: string, data: Record<string, unknown>, id: string, cause: ReactorEvent) => Promise<void>): Record<string, ServiceFunction> {
  return {
    "event.send": async (kwarg, ctx) => {
      const tag = kwarg["tag"] ?? ctx.arg[0];
      if (typeof tag !== "string") throw new Error("event.send needs a tag");
      const data = (kwarg["data"] ?? ctx.arg[1] ?? {}) as Record<string, unknown>;
      await emit(tag, data, `${ctx.jid}/event.send`, ctx.event);
      return true;
    },
  };
}
