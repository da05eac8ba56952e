/**
 * Composition root of `reactor agent`: identity, connection, buffered event sink, presence record,
 * execution modules with the job ledger, job consumer, beacons and mine.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { bindKv, consumeJobs, createEventPublisher, kvKey, type Connection, type JobDelivery } from "../bus/index.js";
import { loadAgentConfig, parseYaml, type AgentConfig, type AgentConfigOverrides } from "../config/index.js";
import { errorMessage, ReportWindow, type JobRequest, type JobReturn, type Logger } from "../core/index.js";
import { signEvent } from "../core/auth/index.js";
import {
  createBuiltinRegistry,
  createExecutor,
  createServiceManager,
  JobLedger,
  loadOrCreateIdentity,
  loadUserModules,
  type Executor,
} from "../agent/index.js";
import { compileBeacons, createBeaconScheduler, createBeaconsModule, type BeaconScheduler } from "../beacons/index.js";
import { createMineClient, createMineModule, createMinePublisher, type MineEntry, type MinePublisher } from "../mine/index.js";
import { connectAgent } from "./agent-connect.js";
import { openBufferedSink, type BufferedSink } from "./agent-sink.js";
import { resolveServers } from "./client.js";
import { createLogger } from "./logger.js";
import { startAgentMetricsServer } from "./http.js";
import { createAgentMetrics } from "./metrics.js";
import type { MinionValue } from "./minion-directory.js";
import { agentFileClient } from "./fileserver.js";
import { addStateFunctions } from "./states.js";
import { detectedGrains } from "./grains.js";

/** Options of the agent process. */
export interface AgentOptions {
  readonly configPath: string;
  readonly nats?: string;
  readonly overrides?: AgentConfigOverrides;
  readonly log?: Logger;
  /** Aborts the key handshake (a stop while still pending). */
  readonly signal?: AbortSignal;
  /** Seconds between presence updates in the `minions` bucket. Default 30. */
  readonly presenceIntervalS?: number;
}

/** A running agent. */
export interface AgentHandle {
  readonly config: AgentConfig;
  readonly conn: Connection;
  readonly executor: Executor;
  readonly sink: BufferedSink;
  readonly beacons: BeaconScheduler;
  readonly mine: MinePublisher;
  /** The metrics listener's URL when `metrics.listen` is set. */
  readonly metricsUrl?: string;
  /** Stops beacons, jobs and mine; flushes what it can; closes. Idempotent. */
  stop(): Promise<void>;
}

/** Starts an agent. */
export async function startAgent(opts: AgentOptions): Promise<AgentHandle> {
  const servers = opts.nats ? resolveServers(opts.nats) : undefined;
  const config = await loadAgentConfig(opts.configPath, { ...opts.overrides, ...(servers ? { servers } : process.env.NATS_URL ? { servers: resolveServers(undefined) } : {}) });
  const log = (opts.log ?? createLogger({ base: { app: "reactor-agent" } })).child({ agent: config.id });
  await mkdir(config.state_dir, { recursive: true, mode: 0o700 });
  const identity = await loadOrCreateIdentity(config.state_dir);
  log.info({ public_key: identity.publicKey, state_dir: config.state_dir }, "agent identity");

  // Like a Salt minion, nothing runs until the key service accepted this agent's key.
  let staticGrains: Record<string, unknown> | undefined;
  const { conn, session } = await connectAgent({
    config,
    identity,
    log,
    grains: async () => (staticGrains ??= await detectedGrains(config, log)),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  log.info({ service_fingerprint: session.serviceFingerprint }, "accepted by the reactor service");
  const publisher = createEventPublisher(conn, { maxEventBytes: 1024 * 1024, retryForMs: 2000, sign: (e) => signEvent(e, identity) });
  const sink = await openBufferedSink({ agentId: config.id, stateDir: config.state_dir, publisher, maxEvents: config.buffer.max_events, log: log.child({ component: "buffer" }) });
  void watchReconnects(conn, sink);

  const serviceManager = createServiceManager(config);
  const registry = createBuiltinRegistry();
  if (config.modules_dir) {
    const res = await loadUserModules(registry, config.modules_dir, log);
    for (const e of res.errors) log.error({ err: e }, "user module not loaded");
  }
  const files = await agentFileClient(conn, config);
  const executor = createExecutor({ config, registry, emit: sink, serviceManager, files, logger: log.child({ component: "executor" }) });
  const ledger = await JobLedger.open({ stateDir: config.state_dir, agentId: config.id });

  const metrics = createAgentMetrics();
  const beacons = await startBeacons(config, sink, serviceManager, executor, log, (b, ok) => metrics.beaconRun(b, ok));
  registry.add("beacons", createBeaconsModule({ scheduler: beacons, file: config.beacons_file }));

  // Bound, not created: the service made the buckets, and an agent's NATS user may touch only its own keys.
  const mineStore = await bindKv<MineEntry>(conn, "mine");
  const runFn = async (fun: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => {
    const ret = await executor.run({ jid: `mine-${Date.now()}`, fun, arg: args, kwarg: kwargs, tgt: config.id, tgt_type: "list", timeout: config.job_timeout, expires: new Date(Date.now() + 60_000).toISOString(), user: "mine" });
    if (!ret.success) throw new Error(typeof ret.return === "string" ? ret.return : JSON.stringify(ret.return));
    return ret.return;
  };
  // Other agents' values are read through the service (reactor.mine.get, signed by this agent's key),
  // which enforces the mine ACL: this agent's NATS user may not read them, and must not decide the ACL itself.
  const mineClient = createMineClient({ conn, agentId: config.id, signer: identity });
  const mine = createMinePublisher({ agentId: config.id, functions: config.mine_functions, intervalMs: config.mine_interval * 1000, run: runFn, store: mineStore, storedNames: () => mineClient.names(), log: log.child({ component: "mine" }), ...(config.mine_change_events ? { emitChange: (tag: string, data: Record<string, unknown>) => sink.emit(tag, data) } : {}) });
  registry.add("mine", createMineModule(mine, mineClient));
  addStateFunctions(registry, { config, files, emit: sink, serviceManager, logger: log, grains: async () => (staticGrains ??= await detectedGrains(config, log)) });

  const minions = await bindKv<MinionValue>(conn, "minions");
  const grains = staticGrains;
  const presence = async () => {
    try {
      await minions.put(kvKey(config.id), { id: config.id, grains: grains ?? config.grains, last_seen: new Date().toISOString() });
    } catch (err) {
      log.warn({ err: errorMessage(err) }, "presence update failed");
    }
  };
  await presence();
  const presenceTimer = setInterval(() => void presence(), (opts.presenceIntervalS ?? 30) * 1000);
  presenceTimer.unref();

  // A running job is kept alive with working() every 5 s, so the ack wait only bounds how long a job of
  // a crashed agent waits before its redelivery (answered from the job ledger, never re-run).
  // Junk on job.<id> is terminated at once by the bus; here it is counted, and logged and reported
  // (salt/minion/<id>/jobs/refused) at most once a second with counts by kind.
  const refusals = new ReportWindow({ detailed: 0 });
  const refuse = (kind: "malformed" | "unsigned", detail: Record<string, unknown>) => {
    metrics.jobRefused(kind);
    refusals.note(kind);
    log.debug(detail, `refused a ${kind} job`);
  };
  const refusalTimer = setInterval(() => {
    const r = refusals.drain();
    if (!r) return;
    log.warn({ count: r.count, by_kind: r.by_kind }, "job messages refused and terminated");
    void sink.emit(`salt/minion/${config.id}/jobs/refused`, { id: config.id, count: r.count, by_kind: r.by_kind, first_at: r.first_at, last_at: r.last_at }).catch(() => undefined);
  }, 1000);
  refusalTimer.unref();
  const jobs = await consumeJobs(conn, config.id, {
    onInvalid: (reason) => refuse("malformed", { reason }),
    onWait: (reason) => log.info({ reason }, "waiting for the job consumer"),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const metricsServer = config.metrics.listen ? await startAgentMetricsServer(config.metrics.listen, metrics, log) : undefined;
  const timed = async (job: JobRequest): Promise<JobReturn> => {
    const t0 = performance.now();
    const ret = await executor.run(job);
    metrics.jobDone(job.fun, (performance.now() - t0) / 1000, ret.success);
    return ret;
  };
  const jobLoop = serveJobs(jobs, config, ledger, timed, sink, log, (d) => session.verifyJob(d.subject, d.payload, d.signature), (d) =>
    refuse("unsigned", { jid: d.job.jid, fun: d.job.fun, user: d.job.user }),
  );
  await sink.emit(`salt/minion/${config.id}/start`, { id: config.id, data: `Minion ${config.id} started at ${new Date().toString()}`, grains: grains ?? {} });
  void mine.start().catch((err: unknown) => log.error({ err: errorMessage(err) }, "mine start failed"));
  log.info({ servers: config.nats.servers, beacons: beacons.list().length, functions: executor.listFunctions().length }, "agent started");

  let stopping: Promise<void> | undefined;
  return {
    config,
    conn,
    executor,
    sink,
    beacons,
    mine,
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    stop() {
      stopping ??= (async () => {
        clearInterval(presenceTimer);
        clearInterval(refusalTimer);
        const steps: [string, () => Promise<unknown>][] = [
          ["metrics", async () => metricsServer?.stop()],
          ["beacons", () => beacons.stop()],
          ["mine", () => mine.stop()],
          ["jobs", () => jobs.stop()],
          ["job loop", () => jobLoop],
          ["buffer", () => sink.stop()],
          ["connection", () => conn.close()],
        ];
        for (const [what, step] of steps) await step().catch((err: unknown) => log.error({ err: errorMessage(err) }, `stopping ${what} failed`));
        log.info({}, "agent stopped");
      })();
      return stopping;
    },
  };
}

async function serveJobs(
  jobs: AsyncIterable<JobDelivery>,
  config: AgentConfig,
  ledger: JobLedger,
  run: (job: JobRequest) => Promise<JobReturn>,
  sink: BufferedSink,
  log: Logger,
  signedByService: (d: JobDelivery) => boolean,
  onUnsigned: (d: JobDelivery) => void,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const d of jobs) {
    if (!signedByService(d)) {
      d.term(); // at once, never redelivered (2.9.10 ignores a reason)
      onUnsigned(d);
      continue;
    }
    const p = (async () => {
      const keepAlive = setInterval(() => d.working(), 5_000);
      try {
        const ret = await ledger.runOnce(d.job, run);
        await sink.emit(`salt/job/${d.job.jid}/ret/${config.id}`, { ...ret }, {
          ...(d.job.causationId ? { causationId: d.job.causationId } : {}),
          depth: (d.job.depth ?? 0) + 1,
          id: `${d.job.jid}/ret/${config.id}`,
        });
        d.ack();
      } catch (err) {
        log.error({ err: errorMessage(err), jid: d.job.jid }, "job handling failed; it will be redelivered");
      } finally {
        clearInterval(keepAlive);
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }
  await Promise.all(running);
}

async function startBeacons(
  config: AgentConfig,
  sink: BufferedSink,
  serviceManager: ReturnType<typeof createServiceManager>,
  executor: Executor,
  log: Logger,
  onRun: (beacon: string, ok: boolean) => void,
): Promise<BeaconScheduler> {
  let specs: ReturnType<typeof compileBeacons> = { beacons: [], errors: [], enabled: true };
  if (existsSync(config.beacons_file)) {
    try {
      specs = compileBeacons(parseYaml(await readFile(config.beacons_file, "utf8"), config.beacons_file));
    } catch (err) {
      log.error({ err: errorMessage(err) }, "beacons file not loaded");
    }
    for (const e of specs.errors) log.error({ err: e.message }, "beacon skipped");
  }
  return createBeaconScheduler({ agentId: config.id, beacons: specs.beacons, sink, deps: { serviceManager, isBusy: () => executor.isBusy(), onRun }, log: log.child({ component: "beacons" }), enabled: specs.enabled });
}

async function watchReconnects(conn: Connection, sink: BufferedSink): Promise<void> {
  for await (const s of conn.nc.status()) if (s.type === "reconnect") void sink.flush();
}

