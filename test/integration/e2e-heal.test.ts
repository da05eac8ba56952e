/**
 * End to end with real processes: nats-server, `reactor serve`, `reactor agent`, and a small HTTP
 * service managed by per-service commands. The service beacon sees the service die, the reactor
 * matches Salt's restart example, the agent restarts it: no human action.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { natsForTests, freePort } from "../helpers/nats-server.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { DEMO_WEB_BEACONS, demoWebService } from "../helpers/stack.js";


async function answers(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

describe("end to end: a killed service comes back by itself", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let port: number;
  let metricsPort: number;
  let pidfile: string;
  const procs: ReturnType<typeof startCli>[] = [];
  /** The CLI's environment: the server, and the service key so that what the CLI sends is signed. */
  let env: Record<string, string> = {};

  before(async () => {
    nats = await natsForTests();
    dir = await mkdtemp(join(tmpdir(), "nr-e2e-"));
    port = await freePort();
    metricsPort = await freePort();
    pidfile = join(dir, "demo-web.pid");
    await mkdir(join(dir, "reactors"));
    await writeFile(join(dir, "reactor.yaml"), ["keys:", "  autosign: [ 'web*' ]", "  service_key: service.nk", "reactor:", "  - 'salt/beacon/*/service/*':", "    - reactors/restart.sls", "  - 'myco/ping':", "    - reactors/ping.sls", "  - 'salt/netapi/hook/deploy':", "    - reactors/deploy.sls", ""].join("\n"));
    await mkdir(join(dir, "orch"));
    await writeFile(join(dir, "reactors/deploy.sls"), "deploy:\n  runner.state.orchestrate:\n    - args:\n      - mods: orch/deploy.sls\n      - pillar: { target: {{ data['post']['host'] | json }} }\n");
    await writeFile(
      join(dir, "orch/deploy.sls"),
      [
        "say_hello:",
        "  salt.function:",
        "    - name: test.echo",
        "    - tgt: {{ pillar['target'] }}",
        "    - arg: [ deployed ]",
        "announce:",
        "  test.succeed_with_changes:",
        "    - require:",
        "      - salt: say_hello",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "reactors/restart.sls"),
      [
        "{% if data['service_name'] is defined and data[data['service_name']]['running'] == False %}",
        "restart_{{ data['service_name'] }}:",
        "  local.service.restart:",
        "    - tgt: {{ data['id'] }}",
        "    - args:",
        "      - name: {{ data['service_name'] }}",
        "{% endif %}",
        "",
      ].join("\n"),
    );
    await writeFile(join(dir, "reactors/ping.sls"), "ping:\n  local.test.ping:\n    - tgt: 'web*'\n");
    await writeFile(
      join(dir, "agent.yaml"),
      JSON.stringify({
        id: "web1.example.com",
        state_dir: join(dir, "state"),
        metrics: { listen: `127.0.0.1:${metricsPort}` },
        services: demoWebService(port, pidfile),
      }),
    );
    await writeFile(join(dir, "beacons.yaml"), DEMO_WEB_BEACONS);
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
    procs.push(startCli(["serve", "-c", join(dir, "reactor.yaml")], env));
    procs.push(startCli(["agent", "-c", join(dir, "agent.yaml")], env));
  });

  after(async () => {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once("exit", r)))));
    try {
      process.kill(Number((await readFile(pidfile, "utf8")).trim()));
    } catch {
      /* not running */
    }
    await nats.stop();
  });

  it("runs a job from a reaction and returns Salt's job return", async () => {
    const watcher = startCli(["event", "watch", "salt/job/*/ret/*", "--json"], env);
    try {
      await waitFor(async () => {
        await runCli(["event", "send", "myco/ping", "{}"], env);
        return watcher.out().includes('"fun":"test.ping"');
      }, { what: `a test.ping return (agent stderr: ${procs[1]!.err()}; service stderr: ${procs[0]!.err()}; watcher: ${watcher.out()} ${watcher.err()})`, timeoutMs: 30_000, intervalMs: 1000 });
      const ret = JSON.parse(watcher.out().split("\n").find((l) => l.includes('"fun":"test.ping"'))!) as { tag: string; data: Record<string, unknown> };
      assert.match(ret.tag, /^salt\/job\/\d{20}_[0-9a-f]{12}\/ret\/web1\.example\.com$/);
      assert.equal(ret.data["return"], true);
      assert.equal(ret.data["success"], true);
      assert.equal(ret.data["retcode"], 0);
      assert.equal(ret.data["id"], "web1.example.com");
      // the agent's own metrics count the job
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(text, /reactor_agent_job_duration_seconds_count\{fun="test\.ping",result="success"\} [1-9]/);
      // The service beacon ticks every second from the agent's start; the job may return first.
      await waitFor(async () => /reactor_agent_beacon_runs_total\{beacon="service"\} [1-9]/.test(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()), { what: "a service beacon run counted in the agent's metrics" });
    } finally {
      watcher.child.kill("SIGINT");
    }
  });

  it("runs functions on agents from the CLI like `salt TGT FUN ARGS`", async () => {

    const echo = await waitFor(async () => {
      const r = await runCli(["run", "web*", "test.echo", "hello world", "--json"], env);
      return r.code === 0 ? r : undefined;
    }, { what: "reactor run test.echo", timeoutMs: 30_000, intervalMs: 500 });
    assert.deepEqual(JSON.parse(echo.stdout), { "web1.example.com": "hello world" });
    const cmd = await runCli(["run", "web1.example.com", "cmd.run", "echo a; echo b", "python_shell=True", "--json"], env);
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.deepEqual(JSON.parse(cmd.stdout), { "web1.example.com": "a\nb" });
    const failing = await runCli(["run", "web*", "cmd.run", "false"], env);
    assert.equal(failing.code, 1);
    const none = await runCli(["run", "db*", "test.ping"], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no agent matched the target "db\*" \(glob\)/);
  });

  it("runs an orchestration started by a webhook-style event, and from the CLI", async () => {

    const sent = await runCli(["event", "send", "salt/netapi/hook/deploy", JSON.stringify({ post: { host: "web1.example.com" } })], env);
    assert.equal(sent.code, 0, sent.stderr);
    // replay from the stream, so the watcher cannot miss the return whenever it starts
    const watcher = startCli(["event", "watch", "salt/run/*/ret", "--json", "--since", "10m"], env);
    try {
      await waitFor(() => watcher.out().includes("salt/run/"), { what: `an orchestration return (service: ${procs[0]!.err().slice(-1500)})`, timeoutMs: 30_000 });
      const rets = watcher.out().split("\n").filter((l) => l.includes("salt/run/"));
      assert.equal(rets.length, 1, "one return per run");
      const ret = JSON.parse(rets[0]!) as { data: { success: boolean; return: { retcode: number; data: Record<string, Record<string, { result: boolean }>> } } };
      assert.equal(ret.data.success, true, JSON.stringify(ret.data));
      assert.equal(ret.data.return.retcode, 0);
      assert.deepEqual(Object.values(ret.data.return.data["reactor_master"]!).map((r) => r.result), [true, true]);
    } finally {
      watcher.child.kill("SIGINT");
    }
    const cli = await runCli(["orchestrate", join(dir, "orch/deploy.sls"), "--pillar", '{"target":"web1.example.com"}', "--json"], env);
    assert.equal(cli.code, 0, cli.stderr + cli.stdout);
    const out = JSON.parse(cli.stdout) as { retcode: number; data: Record<string, Record<string, { result: boolean; changes: unknown }>> };
    assert.equal(out.retcode, 0);
    const steps = Object.values(out.data["reactor_master"]!);
    assert.equal(steps.length, 2);
    assert.ok(steps.every((st) => st.result === true));
  });

  it("restarts the service after it is killed", async () => {
    // The service is not running at first: the beacon reports it down and the reactor starts it.
    // Once the beacon has reported it running (onchangeonly: one event per change), kill it.
    const beacon = startCli(["event", "watch", "salt/beacon/*/service/*", "--json", "--all"], env);
    try {
      const runningEvents = () => beacon.out().split("\n").filter((l) => l.includes('"running":true')).length;
      await waitFor(() => runningEvents() >= 1, { what: `beacon reports demo-web running (agent: ${procs[1]!.err().slice(-1500)})`, timeoutMs: 30_000 });
      const first = await waitFor(() => answers(port), { what: "demo-web up" });
      const pid = Number((await readFile(pidfile, "utf8")).trim());
      assert.equal(first.trim(), `ok ${pid}`);
      process.kill(pid, "SIGKILL");
      const again = await waitFor(async () => {
        const a = await answers(port);
        return a && a !== first ? a : undefined;
      }, { what: `demo-web restarted (agent: ${procs[1]!.err().slice(-1500)}; service: ${procs[0]!.err().slice(-1500)})`, timeoutMs: 30_000, intervalMs: 200 });
      assert.match(again, /^ok \d+/);
      await waitFor(() => runningEvents() >= 2, { what: "the beacon's second running event" });
      assert.ok(beacon.out().includes('"running":false'), "the beacon reported the service down");
    } finally {
      beacon.child.kill("SIGINT");
    }
  });
});
