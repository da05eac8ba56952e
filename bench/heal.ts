/**
 * Self-healing time (issue 4). Run: `node dist/bench/heal.js` or `npx tsx bench/heal.ts`.
 * Real processes: nats-server, `reactor serve`, `reactor agent` (compiled CLI dist/src/cli/main.js),
 * and a demo-web (examples/demo-web.mjs) on a free port managed by per-service commands.
 * The service beacon polls every 1 s (onchangeonly); the map runs Salt's restart example.
 * Each of BENCH_ROUNDS (default 20) rounds SIGKILLs demo-web once the beacon has reported it
 * running, and times until a new demo-web answers HTTP (polled every 20 ms). Prints p50/p99.
 */
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEvent, openConnection } from "../src/bus/index.js";
import { startNatsServer, freePort } from "../test/helpers/nats-server.js";
import { DEMO_WEB_BEACONS, demoWebService } from "../test/helpers/stack.js";
import { goal, killPid, ms, percentile, readPid, repoRoot, runBench, sleep, startReactor, until } from "./lib.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

async function answers(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return r.ok ? (await r.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}

await runBench("heal", 10 * 60_000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-heal-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const pidfile = join(dir, "demo-web.pid");
  defer(() => killPid(readPid(pidfile)));
  await copyFile(join(repoRoot(), "reactors/restart-service.sls"), join(dir, "restart-service.sls"));
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk, autosign: [ 'web*' ] }", "reactor:", "  - 'salt/beacon/*/service/*':", "      - restart-service.sls", ""].join("\n"),
  );
  await writeFile(
    join(dir, "agent.yaml"),
    JSON.stringify({
      id: "web1.example.com",
      state_dir: join(dir, "state"),
      service_manager: "command",
      mine_functions: {},
      services: demoWebService(port, pidfile),
    }),
  );
  await writeFile(join(dir, "beacons.yaml"), DEMO_WEB_BEACONS);

  const conn = await openConnection({ servers: [server.url] });
  defer(() => conn.close());
  let runningSeen = 0;
  let downSeen = 0;
  const sub = conn.nc.subscribe("evt.salt.beacon.>", {
    callback: (err, m) => {
      if (err) return;
      try {
        const ev = decodeEvent(m.subject, m.headers, m.data, 1 << 20);
        const st = (ev.data["demo-web"] as { running?: boolean } | undefined)?.running;
        if (st === true) runningSeen++;
        if (st === false) downSeen++;
      } catch {
        /* not an event */
      }
    },
  });
  defer(() => sub.unsubscribe());

  const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], env);
  defer(() => service.stop());
  const agent = startReactor(["agent", "-c", join(dir, "agent.yaml")], env);
  defer(() => agent.stop());
  console.log(`processes: nats-server, reactor serve (pid ${service.pid}), reactor agent (pid ${agent.pid}), demo-web on port ${port}; service beacon interval 1 s`);

  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // the beacon must have reported the current demo-web running, else a kill is no change to it
    const first = await until(() => answers(port), `demo-web up (agent: ${agent.err().slice(-1500)}; service: ${service.err().slice(-800)})`, 60_000, 50);
    if (round === 0) await until(() => runningSeen > 0, "the beacon's first running event", 30_000, 20);
    await sleep(100 + Math.random() * 900); // a kill at a random point of the beacon's 1 s cycle
    const pid = readPid(pidfile);
    if (!pid) throw new Error("no demo-web pid");
    const seenBefore = runningSeen;
    process.kill(pid, "SIGKILL");
    const t0 = performance.now();
    await until(async () => {
      const a = await answers(port);
      return a && a !== first ? a : undefined;
    }, `demo-web restarted in round ${round + 1} (agent: ${agent.err().slice(-1500)})`, 60_000, 20);
    times.push(performance.now() - t0);
    // wait for the beacon to see it running again before the next kill
    await until(() => runningSeen > seenBefore, "the beacon's running event after the restart", 30_000, 20);
  }
  console.log(`rounds: ${ROUNDS}; beacon events seen: ${downSeen} down, ${runningSeen} running`);
  console.log(`kill -> running again: p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))}`);
  console.log(`all rounds (ms): ${times.map((t) => t.toFixed(0)).join(" ")}`);
  goal("heal time (kill -> running again, 1 s beacon, real processes)", "-", `p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}`, undefined);
});
