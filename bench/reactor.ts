/**
 * Reactor benchmark (issue 3). Run: `node dist/bench/reactor.js` or `npx tsx bench/reactor.ts`.
 * 1. Matching cost per event for maps of 10, 1,000 and 10,000 entries (bench/matching.ts), median of 3.
 * 2. Render rate of Salt's restart example (reactors/restart-service.sls) for a stopped service.
 * 3. Service throughput, publish -> dispatched reaction: BENCH_EVENTS (default 20,000) service-beacon
 *    events are published into EVENTS first, then the service (startService, in this process) is
 *    started on a map with Salt's restart example; the target is a minion record put in the
 *    `minions` KV bucket, so every event dispatches one `local.service.restart` job into JOBS (no
 *    agent). Measured from the first event received to the last reaction dispatched (engine
 *    counters). Baselines in the same run on the same server: raw JetStream pull consume + JSON
 *    parse + ack of the same number of events (the ratio goal is >= 25%), and "raw equivalent
 *    work": the same consume plus the NATS writes the design makes per event (ledger claim + finish
 *    in KV, job publish, two audit publishes) with the service's concurrency, done with the bare client.
 * BENCH_ONLY=service runs part 3 without its baselines (for profiling: `node --cpu-prof dist/bench/reactor.js`).
 */
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, headers } from "@nats-io/transport-node";
import { createLogger, startService } from "../src/apps/index.js";
import { createEventPublisher, defaultStreamSettings, ensureEventStream, openConnection } from "../src/bus/index.js";
import { loadServiceConfig } from "../src/config/index.js";
import { createEvent } from "../src/core/index.js";
import { renderReactions } from "../src/reactor/index.js";
import { signEvent } from "../src/core/auth/index.js";
import { loadOrCreateServiceKey } from "../src/keys/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";
import { matchingCost } from "./matching.js";
import { goal, median, rate, repoRoot, runBench, sleep, until, windowed } from "./lib.js";
import { registerMinion } from "../test/helpers/minions.js";

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
// the engine logs one line per rejected event: a bench must not drown its figures in them
process.env.REACTOR_LOG_LEVEL ??= "error";
const CONCURRENCY = 64; // the service's default limits.concurrency
const MINIONS = ["web1", "web2", "web3", "web4"];
const dataFor = (i: number) => {
  const id = MINIONS[i % MINIONS.length]!;
  return { id, service_name: "nginx", nginx: { running: false } };
};

async function serviceDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-reactor-"));
  await copyFile(join(repoRoot(), "reactors/restart-service.sls"), join(dir, "restart-service.sls"));
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk }", "reactor:", "  - 'salt/beacon/*/service/*':", "      - restart-service.sls", ""].join("\n"),
  );
  return dir;
}

function renderRate(entries: Parameters<typeof renderReactions>[1]): number {
  const ev = { tag: "salt/beacon/web1/service/nginx", data: { ...dataFor(0), _stamp: new Date().toISOString() } };
  const check = renderReactions(ev, entries);
  if (check.reactions.length !== 1 || check.errors.length > 0) throw new Error(`restart-service.sls rendered ${check.reactions.length} reactions, errors ${JSON.stringify(check.errors)}`);
  for (let i = 0; i < 2000; i++) renderReactions(ev, entries); // warm-up
  let n = 0;
  const t = performance.now();
  while (performance.now() - t < 1500) {
    for (let i = 0; i < 200; i++) renderReactions(ev, entries);
    n += 200;
  }
  return n / ((performance.now() - t) / 1000);
}

/** Raw JetStream: publish N events, then pull-consume, parse and ack them. Returns the consume rate. */
async function rawConsume(url: string, stream: string, work?: (nc: Awaited<ReturnType<typeof connect>>) => Promise<(i: number) => Promise<unknown>>): Promise<number> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`], max_bytes: 1024 ** 3 });
    const js = jetstream(nc);
    await windowed(N, 256, (i) => {
      const h = headers();
      h.set("Nats-Msg-Id", `${stream}-${i}`);
      h.set("Reactor-Tag", "salt/beacon/web1/service/nginx");
      return js.publish(`${stream.toLowerCase()}.salt.beacon.web1.service.nginx`, JSON.stringify({ ...dataFor(i), _stamp: new Date().toISOString() }), { headers: h });
    });
    await jsm.consumers.add(stream, { durable_name: "c", ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
    const c = await js.consumers.get(stream, "c");
    const step = work ? await work(nc) : undefined;
    const t = performance.now();
    const msgs = await c.consume({ max_messages: 256 });
    let n = 0;
    let done = 0;
    const inflight = new Set<Promise<unknown>>();
    for await (const m of msgs) {
      const i = n;
      JSON.parse(m.string());
      if (step) {
        const p = step(i).then(() => {
          m.ack();
          done++;
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        if (inflight.size >= CONCURRENCY) await Promise.race(inflight);
      } else {
        m.ack();
        done++;
      }
      if (++n === N) break;
    }
    await Promise.all(inflight);
    const r = done / ((performance.now() - t) / 1000);
    await msgs.close();
    return r;
  } finally {
    await nc.close();
  }
}

/** The NATS writes the design makes per reacted event, with the bare client. */
async function equivalentWork(nc: Awaited<ReturnType<typeof connect>>): Promise<(i: number) => Promise<void>> {
  const kv = await new Kvm(nc).create("RAWLEDGER", { history: 1 });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RAWJOBS", subjects: ["rawjob.>"] });
  await jsm.streams.add({ name: "RAWAUDIT", subjects: ["rawaudit.>"] });
  return async (i: number) => {
    await kv.put(`e${i}.r`, JSON.stringify({ state: "claimed", at: Date.now() }));
    await js.publish(`rawaudit.${i}.matched`, JSON.stringify({ event_id: i, entries: ["x"] }));
    await js.publish("rawjob.web1", JSON.stringify({ jid: `j${i}`, fun: "service.restart", kwarg: { name: "nginx" } }), { msgID: `j${i}` });
    await kv.put(`e${i}.r`, JSON.stringify({ state: "dispatched", at: Date.now() }));
    await js.publish(`rawaudit.${i}.dispatched`, JSON.stringify({ event_id: i, ok: true }));
  };
}

async function serviceThroughput(url: string): Promise<{ rate: number; withStartup: number; received: number; failed: number }> {
  const dir = await serviceDir();
  const conn = await openConnection({ servers: [url] });
  try {
    const settings = defaultStreamSettings();
    await ensureEventStream(conn, settings);
    for (const id of MINIONS) await registerMinion(conn, id, { roles: ["web"] });
    // events are signed with the service key (as `reactor event send` on the service host does): the
    // service verifies every one against its trusted keys, as it would an agent's
    const key = await loadOrCreateServiceKey(join(dir, "service.nk"));
    const publisher = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes, sign: (e) => signEvent(e, key) });
    await windowed(N, 256, (i) => publisher.publish(createEvent({ tag: `salt/beacon/${dataFor(i).id}/service/nginx`, data: dataFor(i), source: dataFor(i).id })));
    const t0 = performance.now();
    const service = await startService({ configPath: join(dir, "reactor.yaml"), nats: url, log: createLogger({ level: "error" }) });
    try {
      const c = service.engine.counters;
      const first = await until(() => (c.received > 0 ? performance.now() : undefined), "the first event", 30_000, 1);
      const last = await until(() => (c.dispatched + c.failed >= N ? performance.now() : undefined), `${N} dispatched reactions (now ${JSON.stringify(c)})`, 300_000, 2);
      return { rate: N / ((last - first) / 1000), withStartup: N / ((last - t0) / 1000), received: c.received, failed: c.failed };
    } finally {
      await service.stop();
    }
  } finally {
    await conn.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const ONLY_SERVICE = process.env.BENCH_ONLY === "service";

await runBench("reactor", 15 * 60_000, async (defer) => {
  if (ONLY_SERVICE) {
    const server = await startNatsServer();
    defer(() => server.stop());
    const svc = await serviceThroughput(server.url);
    console.log(`service throughput alone (BENCH_ONLY=service): ${rate(svc.rate)} for ${N.toLocaleString("en-US")} events, failed ${svc.failed}`);
    return;
  }
  // 1. matching
  console.log("matching cost per event (median of 3 runs of 200 x 1,000 tags):");
  const base = median([matchingCost(10), matchingCost(10), matchingCost(10)]);
  let worst = 0;
  for (const n of [10, 1000, 10000]) {
    const ns = n === 10 ? base : median([matchingCost(n), matchingCost(n), matchingCost(n)]);
    worst = Math.max(worst, ns / base);
    console.log(`  ${String(n).padStart(6)} entries: ${ns.toFixed(0).padStart(6)} ns/event  (x${(ns / base).toFixed(2)} of 10 entries)`);
  }
  goal("matching cost grows sublinearly (10 -> 10,000 entries)", "< x10 of 10 entries", `x${worst.toFixed(2)}`, worst < 10);

  // 2. render
  const dir = await serviceDir();
  defer(() => rm(dir, { recursive: true, force: true }));
  const config = await loadServiceConfig(join(dir, "reactor.yaml"));
  const renders = [renderRate(config.reactor), renderRate(config.reactor), renderRate(config.reactor)];
  console.log(`render of Salt's restart example (restart-service.sls, stopped service -> 1 reaction): ${rate(median(renders))} (median of 3: ${renders.map(rate).join(", ")})`);

  // 3. service throughput vs raw consume
  const server = await startNatsServer();
  defer(() => server.stop());
  console.log(`service throughput: ${N.toLocaleString("en-US")} service-beacon events, 1 local.service.restart job each, nats-server ${server.url}`);
  const raw = await rawConsume(server.url, "RAWA");
  console.log(`  raw JetStream consume (pull, batch 256, parse, ack):         ${rate(raw)}`);
  const equiv = await rawConsume(server.url, "RAWB", equivalentWork);
  console.log(`  raw equivalent work (consume + 2 KV puts + 3 JS publishes, ${CONCURRENCY} in flight): ${rate(equiv)}`);
  await sleep(200);
  const svc = await serviceThroughput(server.url);
  console.log(`  ours: publish -> dispatched reaction:                        ${rate(svc.rate)} (${rate(svc.withStartup)} including service start-up)`);
  console.log(`  engine counters: received ${svc.received} (the service also consumes its own audit events), failed ${svc.failed}`);
  const ratio = svc.rate / raw;
  console.log(`  ratio ours / raw consume ${ratio.toFixed(3)}   ours / raw equivalent work ${(svc.rate / equiv).toFixed(2)}`);
  goal("service throughput / raw JetStream consume", ">= 25%", `${(ratio * 100).toFixed(1)}% (${rate(svc.rate)} vs ${rate(raw)})`, ratio >= 0.25);
});
