/**
 * Soak: service and agent RSS over time under steady load. Run: `node dist/bench/soak.js`
 * (default 10 minutes; BENCH_SECONDS shortens it). Not part of `npm run bench` unless `--soak`.
 * Real processes: nats-server, `reactor serve`, `reactor agent` (the compiled CLI). The bench sends
 * BENCH_RATE (default 20) `myco/ping` events/s, each a `local.test.ping` reaction on the agent.
 * Samples RSS of both processes ~30 times over the run and prints them with the least-squares slope
 * (MB per minute) over the second half (after warm-up).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEventPublisher, decodeEvent, openConnection } from "../src/bus/index.js";
import { signEvent } from "../src/core/auth/index.js";
import { createEvent } from "../src/core/index.js";
import { loadOrCreateServiceKey } from "../src/keys/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";
import { benchSeconds, cpuPercent, goal, runBench, sampleProc, sleep, slope, startReactor, until, type ProcSample } from "./lib.js";

const SECONDS = benchSeconds(600);
const RATE = Number(process.env.BENCH_RATE ?? 20);

await runBench("soak", (SECONDS + 120) * 1000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-soak-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "ping.sls"), "ping:\n  local.test.ping:\n    - tgt: {{ data['id'] }}\n");
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk, autosign: [ 'web*' ] }", "reactor:", "  - 'myco/ping':", "      - ping.sls", ""].join("\n"),
  );
  await writeFile(join(dir, "agent.yaml"), JSON.stringify({ id: "web1", state_dir: join(dir, "state"), beacons_file: join(dir, "none.yaml"), mine_functions: {} }));
  const key = await loadOrCreateServiceKey(join(dir, "service.nk"));
  const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], env);
  defer(() => service.stop());
  const agent = startReactor(["agent", "-c", join(dir, "agent.yaml")], env);
  defer(() => agent.stop());

  const conn = await openConnection({ servers: [server.url] });
  defer(() => conn.close());
  let returns = 0;
  const sub = conn.nc.subscribe("evt.salt.job.>", {
    callback: (err, m) => {
      if (err) return;
      try {
        if (/\/ret\//.test(decodeEvent(m.subject, m.headers, m.data, 1 << 20).tag)) returns++;
      } catch {
        /* not an event */
      }
    },
  });
  defer(() => sub.unsubscribe());
  const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
  await until(async () => {
    await publisher.publish(createEvent({ tag: "myco/ping", data: { id: "web1" } }));
    await sleep(500);
    return returns > 0;
  }, `a first return (agent: ${agent.err().slice(-1500)})`, 60_000, 0);

  let sent = 0;
  let errors = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < RATE / 10; i++) {
      sent++;
      publisher.publish(createEvent({ tag: "myco/ping", data: { id: "web1" } })).catch(() => errors++);
    }
  }, 100);
  defer(() => clearInterval(timer));

  console.log(`soak: ${RATE} reactions/s for ${SECONDS} s; service pid ${service.pid}, agent pid ${agent.pid}`);
  const every = Math.max(2, SECONDS / 30) * 1000;
  const rows: { t: number; svc: ProcSample; agt: ProcSample }[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const svc = sampleProc(service.pid);
    const agt = sampleProc(agent.pid);
    if (!svc || !agt) throw new Error(`a process exited: service ${service.err().slice(-800)} agent ${agent.err().slice(-800)}`);
    const t = (performance.now() - t0) / 1000;
    rows.push({ t, svc, agt });
    console.log(`  t=${t.toFixed(0).padStart(4)} s  service RSS ${(svc.rssKb / 1024).toFixed(1).padStart(6)} MB   agent RSS ${(agt.rssKb / 1024).toFixed(1).padStart(6)} MB   returns ${returns}`);
    await sleep(every);
  }
  clearInterval(timer);
  const half = rows.filter((r) => r.t >= SECONDS / 2);
  const perMin = (f: (r: (typeof rows)[number]) => number) => slope(half.map((r) => [r.t / 60, f(r)] as const));
  const sSlope = perMin((r) => r.svc.rssKb / 1024);
  const aSlope = perMin((r) => r.agt.rssKb / 1024);
  const first = rows[0]!;
  const last = rows.at(-1)!;
  console.log(`sent ${sent} events (${errors} publish errors), ${returns} returns`);
  console.log(`CPU over the run: service ${cpuPercent(first.svc, last.svc).toFixed(1)}%, agent ${cpuPercent(first.agt, last.agt).toFixed(1)}% of one core`);
  console.log(`RSS slope over the second half: service ${sSlope.toFixed(2)} MB/min, agent ${aSlope.toFixed(2)} MB/min`);
  goal(`soak RSS slope (${SECONDS} s at ${RATE}/s)`, "-", `service ${sSlope.toFixed(2)} MB/min, agent ${aSlope.toFixed(2)} MB/min`, undefined);
});
