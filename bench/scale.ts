/**
 * Fleet scale (issue 9). Run: `node dist/bench/scale.js [agents]` or `npx tsx bench/scale.ts`.
 * nats-server, and the reactor service as its own process (`reactor serve`), sampled from /proc.
 * BENCH_AGENTS (default 1,000) simulated lightweight agents live in this bench process and share
 * BENCH_CONNECTIONS (default 20) NATS connections (50 agents per connection). Each agent:
 * - has its own nkey and passes the real key handshake (autosign) and a record in `minions`;
 * - has its OWN durable JOBS consumer (`consumeJobs`, as the real agent) and answers each job with a
 *   signed `salt/job/<jid>/ret/<id>` return, then acks (job signatures are not checked here);
 * - sends a signed `salt/beacon/<id>/load/` event every 10 s (random phase), to which the map
 *   reacts with `local.test.ping` on that agent: ~100 events/s and 100 reactions/s for 1,000 agents.
 * Runs BENCH_SECONDS (default 60) after set-up; reports the service's CPU and RSS, the consumer
 * lag of the service's durable (pending + ack pending), and latency beacon published -> job
 * received by the agent, and -> return stored.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { authenticate } from "../src/agent/index.js";
import { consumeJobs, ensureAgentConsumer, createEventPublisher, kvKey, openConnection, openKv, type Connection, type EventPublisher } from "../src/bus/index.js";
import { signEvent, signerFromSeed } from "../src/core/auth/index.js";
import { createEvent } from "../src/core/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";
import { benchSeconds, cpuPercent, goal, median, ms, percentile, runBench, sampleProc, sleep, startReactor, windowed, type ProcSample } from "./lib.js";

const AGENTS = Number(process.argv[2] ?? process.env.BENCH_AGENTS ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SECONDS = benchSeconds(60);
const PERIOD_MS = 10_000;

await runBench("scale", (SECONDS + 300) * 1000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-scale-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "ping.sls"), "ping:\n  local.test.ping:\n    - tgt: {{ data['id'] }}\n");
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk, autosign: [ 'sim-*' ] }", "reactor:", "  - 'salt/beacon/*/load/':", "      - ping.sls", ""].join("\n"),
  );
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" });
  defer(() => service.stop());

  const conns: Connection[] = [];
  defer(async () => {
    for (const c of conns) await c.close();
  });
  for (let i = 0; i < CONNECTIONS; i++) conns.push(await openConnection({ servers: [server.url], name: `sim agents ${i}` }));
  const admin = conns[0]!;

  // set-up: keys, handshake, minion records, job consumers
  const tSetup = performance.now();
  const agents = Array.from({ length: AGENTS }, (_, i) => {
    const id = `sim-${String(i).padStart(4, "0")}`;
    const signer = signerFromSeed(createUser().getSeed());
    const conn = conns[i % conns.length]!;
    return { id, signer, conn, publisher: undefined as unknown as EventPublisher };
  });
  await sleep(1500); // the service's key responder
  await windowed(AGENTS, 50, async (i) => {
    const a = agents[i]!;
    await authenticate({ conn: a.conn, id: a.id, identity: { publicKey: a.signer.publicKey, sign: a.signer.sign }, stateDir: await mkdtemp(join(dir, "a-")), requestTimeoutMs: 30_000, retryMs: 1000 });
    a.publisher = createEventPublisher(a.conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, a.signer) });
  });
  const tAuth = performance.now();
  const minions = await openKv(admin, { bucket: "minions", history: 1 });
  await windowed(AGENTS, 100, (i) => minions.put(kvKey(agents[i]!.id), { id: agents[i]!.id, grains: { roles: ["sim"] }, last_seen: new Date().toISOString() }));

  const sentAt = new Map<string, number>();
  const jobLat: number[] = [];
  const retLat: number[] = [];
  let measuring = false;
  let jobs = 0;
  let returnsFailed = 0;
  const streams: { stop(): Promise<void> }[] = [];
  defer(async () => {
    for (const s of streams) await s.stop().catch(() => undefined);
  });
  await windowed(AGENTS, 20, async (i) => {
    const a = agents[i]!;
    await ensureAgentConsumer(admin, a.id);
    const js = await consumeJobs(a.conn, a.id, { onInvalid: () => undefined });
    streams.push(js);
    void (async () => {
      for await (const d of js) {
        jobs++;
        const cause = d.job.causationId;
        const sent = cause ? sentAt.get(cause) : undefined;
        if (measuring && sent !== undefined) jobLat.push(performance.now() - sent);
        try {
          await a.publisher.publish(
            createEvent({
              tag: `salt/job/${d.job.jid}/ret/${a.id}`,
              data: { id: a.id, jid: d.job.jid, fun: d.job.fun, fun_args: [], return: true, retcode: 0, success: true },
              id: `${d.job.jid}/ret/${a.id}`,
              source: a.id,
              ...(cause ? { causationId: cause } : {}),
              depth: (d.job.depth ?? 0) + 1,
            }),
          );
          if (measuring && sent !== undefined) retLat.push(performance.now() - sent);
          d.ack();
        } catch {
          returnsFailed++;
        }
      }
    })();
  });
  const tReady = performance.now();
  console.log(
    `set-up: ${AGENTS} agents on ${CONNECTIONS} shared connections; handshake ${((tAuth - tSetup) / 1000).toFixed(1)} s, records + ${AGENTS} durable JOBS consumers ${((tReady - tAuth) / 1000).toFixed(1)} s`,
  );

  // beacons every 10 s per agent, random phase
  let sent = 0;
  let sendErrors = 0;
  const timers: NodeJS.Timeout[] = [];
  const stopBeacons = () => timers.forEach((t) => clearTimeout(t) ?? clearInterval(t));
  defer(stopBeacons);
  for (const a of agents) {
    const fire = () => {
      const ev = createEvent({ tag: `salt/beacon/${a.id}/load/`, data: { id: a.id, "1m": 0.42, "5m": 0.3, "15m": 0.2 }, source: a.id });
      sentAt.set(ev.id, performance.now());
      sent++;
      a.publisher.publish(ev).catch(() => sendErrors++);
    };
    timers.push(
      setTimeout(() => {
        fire();
        timers.push(setInterval(fire, PERIOD_MS));
      }, Math.random() * PERIOD_MS),
    );
  }
  await sleep(PERIOD_MS); // one full period of warm-up
  measuring = true;
  const svc: ProcSample[] = [];
  const nats: ProcSample[] = [];
  const lag: number[] = [];
  const cpuBench0 = process.cpuUsage();
  const t0 = performance.now();
  const sent0 = sent;
  const jobs0 = jobs;
  while (performance.now() - t0 < SECONDS * 1000) {
    const s = sampleProc(service.pid);
    if (!s) throw new Error(`the service exited: ${service.err().slice(-1500)}`);
    svc.push(s);
    const n = server.pid ? sampleProc(server.pid) : undefined;
    if (n) nats.push(n);
    try {
      const info = await admin.jsm.consumers.info("EVENTS", "reactor");
      lag.push(info.num_pending + info.num_ack_pending);
    } catch {
      /* info timed out under load */
    }
    await sleep(2000);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const benchCpu = process.cpuUsage(cpuBench0);
  measuring = false;
  stopBeacons();
  const cpu = cpuPercent(svc[0]!, svc.at(-1)!);
  const perWindow = svc.slice(1).map((s, i) => cpuPercent(svc[i]!, s));
  const rss = svc.map((s) => s.rssKb / 1024);
  console.log(`load: ${((sent - sent0) / elapsed).toFixed(0)} beacon events/s, ${((jobs - jobs0) / elapsed).toFixed(0)} jobs/s answered, over ${elapsed.toFixed(0)} s (send errors ${sendErrors}, return errors ${returnsFailed})`);
  console.log(`service process: CPU ${cpu.toFixed(1)}% of one core (2 s windows: median ${median(perWindow).toFixed(1)}%, max ${Math.max(...perWindow).toFixed(1)}%), RSS ${median(rss).toFixed(0)} MB median, ${Math.max(...rss).toFixed(0)} MB max`);
  if (nats.length > 1) console.log(`nats-server: CPU ${cpuPercent(nats[0]!, nats.at(-1)!).toFixed(1)}% of one core, RSS ${(nats.at(-1)!.rssKb / 1024).toFixed(0)} MB`);
  console.log(`bench process (${AGENTS} simulated agents): CPU ${(((benchCpu.user + benchCpu.system) / 1e6 / elapsed) * 100).toFixed(1)}% of one core`);
  console.log(`consumer lag (pending + ack pending of the service's durable): median ${median(lag)}, max ${Math.max(...lag)} (${lag.length} samples)`);
  console.log(`latency beacon published -> job received by the agent: p50 ${ms(percentile(jobLat, 50))}, p99 ${ms(percentile(jobLat, 99))}; -> return stored: p50 ${ms(percentile(retLat, 50))}, p99 ${ms(percentile(retLat, 99))}`);
  goal(`service CPU with ${AGENTS} agents (1 event + 1 reaction each per 10 s)`, "< 50% of one core", `${cpu.toFixed(1)}%`, cpu < 50);
  goal(`beacon -> job received at ${AGENTS} agents`, "-", `p50 ${ms(percentile(jobLat, 50))}, p99 ${ms(percentile(jobLat, 99))}; lag max ${Math.max(...lag)}`, undefined);
});
