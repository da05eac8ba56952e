/**
 * `state.apply` latency end to end: an event published -> the reactor's `local.state.apply` ->
 * the agent renders the SLS (fetched from the service's file server over NATS, cached by digest)
 * and runs it (a file.managed from a salt:// template, a cmd.run guarded by `creates`, a test.nop)
 * -> its return on the bus. One event at a time, BENCH_ROUNDS (default 50) times, after a first
 * run that converges. Baseline in the same run: `test.ping` through the same path.
 * Run: `npm run build && node dist/bench/state-latency.js`.
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
import { goal, ms, percentile, runBench, startReactor, until } from "./lib.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);

await runBench("state-latency", 5 * 60_000, async (defer) => {
  const server = await startNatsServer();
  defer(() => server.stop());
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-state-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const srv = join(dir, "srv");
  await mkdir(join(srv, "app"), { recursive: true });
  await writeFile(join(srv, "apply.sls"), "apply:\n  local.state.apply:\n    - tgt: {{ data['id'] }}\n    - args:\n      - mods: app\n");
  await writeFile(join(srv, "ping.sls"), "ping:\n  local.test.ping:\n    - tgt: {{ data['id'] }}\n");
  await writeFile(join(srv, "app", "conf.j2"), "id={{ grains['id'] }}\n");
  await writeFile(
    join(srv, "app", "init.sls"),
    [
      "conf:",
      "  file.managed:",
      `    - name: ${join(dir, "app.conf")}`,
      "    - source: salt://app/conf.j2",
      "    - template: jinja",
      "once:",
      "  cmd.run:",
      `    - name: touch ${join(dir, "once")}`,
      `    - creates: ${join(dir, "once")}`,
      "done:",
      "  test.nop:",
      "    - require:",
      "      - file: conf",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "reactor.yaml"),
    ["stream: { replicas: 1 }", "logging: { level: warn }", "keys: { service_key: service.nk, autosign: [ 'web*' ] }", "file_roots: { base: [ srv ] }", "reactor:", "  - 'bench/apply':", "      - salt://apply.sls", "  - 'bench/ping':", "      - salt://ping.sls", ""].join("\n"),
  );
  const key = await loadOrCreateServiceKey(join(dir, "service.nk"));
  const service = startReactor(["serve", "-c", join(dir, "reactor.yaml")], { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" });
  defer(() => service.stop());
  const conn = await openConnection({ servers: [server.url] });
  defer(() => conn.close());
  const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
  const returned = new Map<string, { at: number; retcode: number }>();
  const sub = conn.nc.subscribe("evt.salt.job.>", {
    callback: (err, m) => {
      if (err) return;
      try {
        const ev = decodeEvent(m.subject, m.headers, m.data, 1 << 20);
        if (/\/ret\/[^/]+$/.test(ev.tag) && ev.causationId && !returned.has(ev.causationId)) returned.set(ev.causationId, { at: performance.now(), retcode: Number(ev.data.retcode) });
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
  const cfg = join(dir, "web1.yaml");
  await writeFile(cfg, JSON.stringify({ id: "web1", state_dir: join(dir, "state"), beacons_file: join(dir, "none.yaml"), mine_functions: {} }));
  agents.push(await startAgent({ configPath: cfg, nats: server.url, log: createLogger({ level: "error" }), presenceIntervalS: 30 }));

  const once = async (tag: string): Promise<{ ms: number; retcode: number }> => {
    const ev = createEvent({ tag, data: { id: "web1" } });
    const t0 = performance.now();
    await publisher.publish(ev);
    const r = await until(() => returned.get(ev.id), `a return for ${tag} (service: ${service.err().slice(-1500)})`, 30_000, 1);
    return { ms: r.at - t0, retcode: r.retcode };
  };
  // ready: the service knows the agent, the file server has the tree, the tree converged
  await until(async () => (await once("bench/ping").catch(() => undefined)) !== undefined, "the agent answers", 60_000, 500);
  const first = await until(async () => {
    const r = await once("bench/apply");
    return r.retcode === 0 ? r : undefined;
  }, "a first state.apply that succeeds", 60_000, 500);
  console.log(`first state.apply (fetches the tree, converges): ${ms(first.ms)}`);
  const measure = async (tag: string) => {
    const t: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await once(tag);
      if (r.retcode !== 0) throw new Error(`${tag} returned retcode ${r.retcode}`);
      t.push(r.ms);
    }
    return { p50: percentile(t, 50), p99: percentile(t, 99), max: Math.max(...t) };
  };
  const ping = await measure("bench/ping");
  const apply = await measure("bench/apply");
  console.log(`event -> test.ping return (baseline, same path): p50 ${ms(ping.p50)}, p99 ${ms(ping.p99)}, max ${ms(ping.max)} over ${ROUNDS}`);
  console.log(`event -> state.apply return (3 states, nothing to change): p50 ${ms(apply.p50)}, p99 ${ms(apply.p99)}, max ${ms(apply.max)} over ${ROUNDS}`);
  goal("state-latency", "event -> state.apply return, 3 states, nothing to change", `p50 ${ms(apply.p50)} (test.ping ${ms(ping.p50)})`, undefined);
});
