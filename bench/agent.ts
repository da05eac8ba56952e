/**
 * Agent footprint (issue 4). Run: `node dist/bench/agent.js` or `npx tsx bench/agent.ts`.
 * Real processes: nats-server, `reactor serve` (accepts the agent's key by autosign), `reactor agent`
 * with the example beacons of examples/beacons.yaml (service, diskusage, load, inotify) and the
 * example agent.yaml's mine functions; the service beacon points at a demo-web on a free port
 * (started by the bench, so it is running), the inotify beacon at a temp directory.
 * 1. Idle: RSS and CPU of the agent over BENCH_SECONDS (default 60), sampled every second from
 *    /proc/<pid>/stat and /proc/<pid>/status; CPU of the agent itself and including the commands it
 *    runs (the service check every 2 s is a `node -e fetch(...)` process, as in the example).
 * 2. inotify change -> event on the bus: 100 file writes (~100 ms apart) into the watched
 *    directory; time from the write to the first inotify event for that path (core subscription).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEvent, openConnection } from "../src/bus/index.js";
import { freePort, startNatsServer } from "../test/helpers/nats-server.js";
import { benchSeconds, cpuPercent, goal, killPid, median, ms, percentile, readPid, repoRoot, runBench, sampleProc, sleep, startProc, startReactor, until, type ProcSample } from "./lib.js";

const SECONDS = benchSeconds(60);
const WRITES = Number(process.env.BENCH_WRITES ?? 100);
const ID = "web-idle";

await runBench("agent", (SECONDS + 180) * 1000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-agent-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const watched = join(dir, "watched");
  await mkdir(watched);
  const port = await freePort();
  const pidfile = join(dir, "demo-web.pid");
  const demoJs = join(repoRoot(), "examples/demo-web.mjs");
  const demo = startProc(process.execPath, [demoJs, "--port", String(port), "--pidfile", pidfile]);
  defer(() => demo.stop());
  defer(() => killPid(readPid(pidfile))); // a restarted one, if any
  await writeFile(join(dir, "x.sls"), "x:\n  local.test.ping:\n    - tgt: nobody\n");
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", `keys: { service_key: service.nk, autosign: [ '${ID}' ] }`, "reactor:", "  - 'bench/never':", "      - x.sls", ""].join("\n"),
  );
  const beacons = (await readFile(join(repoRoot(), "examples/beacons.yaml"), "utf8")).replaceAll("/tmp/nats-reactor-demo", watched);
  await writeFile(join(dir, "beacons.yaml"), beacons);
  const check = `fetch('http://127.0.0.1:${port}/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  await writeFile(
    join(dir, "agent.yaml"),
    JSON.stringify({
      id: ID,
      state_dir: join(dir, "state"),
      beacons_file: "beacons.yaml",
      service_manager: "command",
      services: {
        "demo-web": {
          check: ["node", "-e", check],
          start: [process.execPath, demoJs, "--port", String(port), "--pidfile", pidfile],
          stop: ["sh", "-c", `kill $(cat ${pidfile})`],
        },
      },
      grains: { roles: ["web"], env: "demo" },
      mine_functions: { "network.ip_addrs": [], "grains.items": [] },
      mine_interval: 5,
      job_timeout: "60s",
      max_concurrent_jobs: 8,
      buffer: { max_events: 10000 },
    }),
  );

  const conn = await openConnection({ servers: [server.url] });
  defer(() => conn.close());
  const inotifyAt = new Map<string, number>();
  let started = false;
  let beaconEvents = 0;
  const sub = conn.nc.subscribe("evt.salt.>", {
    callback: (err, m) => {
      if (err) return;
      try {
        const ev = decodeEvent(m.subject, m.headers, m.data, 1 << 20);
        if (ev.tag === `salt/minion/${ID}/start`) started = true;
        if (ev.tag.startsWith(`salt/beacon/${ID}/`)) beaconEvents++;
        if (ev.tag.startsWith(`salt/beacon/${ID}/inotify/`)) {
          const path = String(ev.data["path"] ?? "");
          if (!inotifyAt.has(path)) inotifyAt.set(path, performance.now());
        }
      } catch {
        /* not an event */
      }
    },
  });
  defer(() => sub.unsubscribe());

  const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], env);
  defer(() => service.stop());
  const agent = startReactor(["agent", "-c", join(dir, "agent.yaml")], env, dir);
  defer(() => agent.stop());
  await until(() => started, `the agent's start event (agent: ${agent.err().slice(-1500)})`, 60_000, 50);
  await sleep(3000); // start-up done (first beacon polls, mine)
  console.log(`idle agent (pid ${agent.pid}) with the example beacons and mine functions, sampled every 1 s for ${SECONDS} s`);
  const samples: ProcSample[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const s = sampleProc(agent.pid);
    if (!s) throw new Error(`the agent exited: ${agent.err().slice(-1500)}`);
    samples.push(s);
    await sleep(1000);
  }
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const rss = samples.map((s) => s.rssKb / 1024);
  const own = cpuPercent(first, last);
  const withChildren = cpuPercent(first, last, true);
  console.log(`RSS: median ${median(rss).toFixed(1)} MB, max ${Math.max(...rss).toFixed(1)} MB, first ${rss[0]!.toFixed(1)} MB, last ${rss.at(-1)!.toFixed(1)} MB`);
  console.log(`CPU (% of one core): agent process ${own.toFixed(2)}%, including the commands it ran (service checks) ${withChildren.toFixed(2)}%`);
  console.log(`beacon events during the run: ${beaconEvents}`);
  goal("idle agent RSS", "< 80 MB", `median ${median(rss).toFixed(1)} MB, max ${Math.max(...rss).toFixed(1)} MB`, Math.max(...rss) < 80);
  goal("idle agent CPU", "< 1% of one core", `${own.toFixed(2)}% (agent), ${withChildren.toFixed(2)}% with its check commands`, own < 1);

  // inotify
  const lat: number[] = [];
  let missing = 0;
  const writes: { path: string; t: number }[] = [];
  for (let i = 0; i < WRITES; i++) {
    const path = join(watched, `bench-${i}.conf`);
    const t = performance.now();
    await writeFile(path, `listen ${i}\n`);
    writes.push({ path, t });
    await sleep(80 + Math.random() * 40);
  }
  await sleep(2000);
  for (const w of writes) {
    const at = inotifyAt.get(w.path);
    if (at === undefined) missing++;
    else lat.push(at - w.t);
  }
  console.log(`inotify: ${WRITES} writes, ${lat.length} seen on the bus, ${missing} missing; write -> event: p50 ${ms(percentile(lat, 50))}, p99 ${ms(percentile(lat, 99))}, max ${ms(Math.max(...lat))}`);
  goal("inotify change -> event p99", "< 50 ms", `p50 ${ms(percentile(lat, 50))}, p99 ${ms(percentile(lat, 99))}${missing ? `, ${missing} missing` : ""}`, percentile(lat, 99) < 50 && missing === 0);
});
