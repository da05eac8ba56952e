/**
 * End-to-end reactions (issue 9). Run: `node dist/bench/e2e.js` or `npx tsx bench/e2e.ts`.
 * Processes: nats-server; the reactor service as a real process (`reactor serve`, compiled CLI);
 * REAL agents in-process in this bench (startAgent, each with its own state dir, key handshake
 * with the service's autosign policy, signed returns, job signature checks), sharing this process
 * with the publisher and the measurement.
 * The map reacts to `myco/ping` {id} with `local.test.ping` on that agent; a reaction is complete
 * when its `salt/job/<jid>/ret/<id>` event reaches the bus (core subscription on evt.salt.job.>).
 * 1. Throughput: BENCH_E2E_EVENTS (default 4,000) events, 256 publishes in flight, spread over
 *    1 agent and then 4 agents; reactions/s from the first publish to the last return.
 * 2. Latency at a steady 100 events/s for BENCH_LATENCY_SECONDS (default 20; BENCH_SECONDS also
 *    shortens it), 4 agents: event published -> job returned, p50/p99.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startAgent, type AgentHandle } from "../src/apps/index.js";
import { createEventPublisher, decodeEvent, openConnection } from "../src/bus/index.js";
import { signEvent } from "../src/core/auth/index.js";
import { createEvent } from "../src/core/index.js";
import { loadOrCreateServiceKey } from "../src/keys/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";
import { goal, ms, percentile, rate, runBench, sleep, startReactor, until, windowed } from "./lib.js";

const EVENTS = Number(process.env.BENCH_E2E_EVENTS ?? 4000);
const LAT_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? process.env.BENCH_SECONDS ?? 20);
const AGENTS = ["web1", "web2", "web3", "web4"];

await runBench("e2e", 10 * 60_000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-e2e-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "ping.sls"), "ping:\n  local.test.ping:\n    - tgt: {{ data['id'] }}\n");
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk, autosign: [ 'web*' ] }", "reactor:", "  - 'myco/ping':", "      - ping.sls", ""].join("\n"),
  );
  const key = await loadOrCreateServiceKey(join(dir, "service.nk"));
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" });
  defer(() => service.stop());

  const conn = await openConnection({ servers: [server.url] });
  defer(() => conn.close());
  const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
  const returned = new Map<string, number>(); // causation (event) id -> time the return was seen
  let returns = 0;
  const sub = conn.nc.subscribe("evt.salt.job.>", {
    callback: (err, m) => {
      if (err) return;
      try {
        const ev = decodeEvent(m.subject, m.headers, m.data, 1 << 20);
        if (!/\/ret\/[^/]+$/.test(ev.tag) || !ev.causationId) return;
        returns++;
        if (!returned.has(ev.causationId)) returned.set(ev.causationId, performance.now());
      } catch {
        /* not an event */
      }
    },
  });
  defer(() => sub.unsubscribe());

  const agents: AgentHandle[] = [];
  defer(async () => {
    for (const a of agents) await a.stop();
  });
  const log = createLogger({ level: "error" });
  const addAgent = async (id: string) => {
    const cfg = join(dir, `${id}.yaml`);
    await mkdir(join(dir, id));
    await writeFile(cfg, JSON.stringify({ id, state_dir: join(dir, id, "state"), beacons_file: join(dir, id, "none.yaml"), mine_functions: {}, grains: { roles: ["web"] } }));
    const a = await startAgent({ configPath: cfg, nats: server.url, log, presenceIntervalS: 30 });
    agents.push(a);
    // ready when a reaction reaches it (the service has seen its minion record)
    await until(async () => {
      const ev = createEvent({ tag: "myco/ping", data: { id } });
      await publisher.publish(ev);
      await sleep(300);
      return returned.has(ev.id);
    }, `a first return from ${id} (service: ${service.err().slice(-1500)})`, 60_000, 0);
  };

  const burst = async (n: number, ids: readonly string[]): Promise<number> => {
    const evs = Array.from({ length: n }, (_, i) => createEvent({ tag: "myco/ping", data: { id: ids[i % ids.length]! } }));
    const t0 = performance.now();
    await windowed(n, 256, (i) => publisher.publish(evs[i]!));
    const pubDone = performance.now();
    await until(() => evs.every((e) => returned.has(e.id)), `${n} returns (have ${evs.filter((e) => returned.has(e.id)).length})`, 180_000, 20);
    const last = Math.max(...evs.map((e) => returned.get(e.id)!));
    console.log(`  ${ids.length} agent(s): ${n} events published in ${((pubDone - t0) / 1000).toFixed(2)} s, all returned after ${((last - t0) / 1000).toFixed(2)} s`);
    return n / ((last - t0) / 1000);
  };

  console.log(`processes: nats-server, reactor serve (own process), ${AGENTS.length} real agents (startAgent) in the bench process`);
  await addAgent(AGENTS[0]!);
  const one = await burst(EVENTS, AGENTS.slice(0, 1));
  for (const id of AGENTS.slice(1)) await addAgent(id);
  const four = await burst(EVENTS, AGENTS);
  console.log(`throughput, event -> test.ping returned: 1 agent ${rate(one)}, 4 agents ${rate(four)}`);
  const best = Math.max(one, four);
  goal("end-to-end reactions/s (test.ping)", ">= 2,000/s", `${rate(one)} (1 agent), ${rate(four)} (4 agents)`, best >= 2000);

  // steady 100/s
  await sleep(1000);
  const lat: number[] = [];
  const sent: { id: string; t: number }[] = [];
  const n = Math.round(LAT_SECONDS * 100);
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + i * 10;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const ev = createEvent({ tag: "myco/ping", data: { id: AGENTS[i % AGENTS.length]! } });
    const t = performance.now();
    sent.push({ id: ev.id, t });
    pending.push(publisher.publish(ev));
  }
  await Promise.all(pending);
  const achieved = n / ((performance.now() - start) / 1000);
  await until(() => sent.every((s) => returned.has(s.id)), "returns of the steady phase", 60_000, 50).catch(() => undefined);
  let lost = 0;
  for (const s of sent) {
    const r = returned.get(s.id);
    if (r === undefined) lost++;
    else lat.push(r - s.t);
  }
  const p50 = percentile(lat, 50);
  const p99 = percentile(lat, 99);
  console.log(`latency at ${achieved.toFixed(0)} events/s for ${LAT_SECONDS} s (4 agents), event published -> job returned: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(Math.max(...lat))}, ${lost} without a return`);
  console.log(`returns seen in total: ${returns}`);
  goal("e2e latency p99 at 100 events/s", "< 50 ms", `p50 ${ms(p50)}, p99 ${ms(p99)}`, p99 < 50 && lost === 0);
});
