/**
 * The seed demo with real processes (issue 7): nats-server, a real haproxy, `reactor serve` on the
 * example reactors/reactor.yaml unchanged, a load-balancer agent (lb1) and web agents whose demo
 * apps (examples/release/app.mjs) haproxy balances.
 *
 * - Web hosts join haproxy by themselves: auto-accept.sls accepts their keys, their `app` mine entry
 *   fires app-host-added.sls, and orch/app-host-added.sls adds, checks and enables them.
 * - A webhook-style event starts orch/release.sls: one host at a time out of haproxy, deployed,
 *   restarted, checked, back in. A client hitting haproxy all along sees no failed request.
 * - A release that cannot be deployed on one host stops there, with that host out of rotation.
 * - A deleted key takes its host out of haproxy; a new host joins.
 * - An agent killed in the middle of an orchestration step: the step fails after its timeout and
 *   the run ends.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jobDurable, openConnection, watchEvents, type Connection } from "../../src/bus/index.js";
import type { ReactorEvent } from "../../src/core/index.js";
import { startHaproxy, request, type Haproxy } from "../fixtures/haproxy/haproxy.js";
import { runCli, startCli } from "../helpers/cli.js";
import { freePort, natsForTests } from "../helpers/nats-server.js";
import { repoRoot } from "../helpers/paths.js";
import { startAgentProc, startCliProc, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

const EXAMPLE = join(repoRoot(), "examples", "release");

/** One web host: its app folder, port and agent. */
interface WebHost {
  readonly id: string;
  readonly dir: string;
  readonly port: number;
  agent?: Proc;
}

/** `show stat` rows of backend `app` (servers only): name -> status (UP, MAINT, no check, ...). */
async function backendServers(socket: string): Promise<Map<string, string>> {
  const text = await new Promise<string>((resolve, reject) => {
    let out = "";
    const s = connect(socket, () => s.end("show stat\n"));
    s.setEncoding("utf8");
    s.on("data", (d: string) => (out += d));
    s.on("end", () => resolve(out));
    s.on("error", reject);
  });
  const [header, ...rows] = text.trim().split("\n");
  const cols = (header ?? "").replace(/^# /, "").split(",");
  const at = (name: string) => cols.indexOf(name);
  const servers = new Map<string, string>();
  for (const row of rows) {
    const c = row.split(",");
    if (c[at("pxname")] === "app" && !["BACKEND", "FRONTEND"].includes(c[at("svname")] ?? "")) servers.set(c[at("svname")]!, c[at("status")]!);
  }
  return servers;
}

/** The distinct answers of `n` requests through haproxy, sorted ("web1 2.0.0", ...). */
async function answersThrough(port: number, n = 12): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await request(port)).trim());
  return [...seen].sort();
}

type StepResults = Record<string, Record<string, { result: boolean; comment: string; __run_num__: number; changes: { return?: unknown } }>>;

/** Step results of an orchestration return by state id (`salt_|-deploy_web2_|-...` -> `deploy_web2`). */
function byStateId(data: StepResults): Record<string, StepResults[string][string]> {
  return Object.fromEntries(Object.entries(data["reactor_master"] ?? {}).map(([tag, r]) => [tag.split("_|-")[1], r]));
}

/** Hosts haproxy sends traffic to (not in maintenance), sorted. */
async function inRotation(socket: string): Promise<string[]> {
  return [...(await backendServers(socket))].filter(([, status]) => !status.includes("MAINT")).map(([name]) => name).sort();
}

/**
 * A client that keeps requesting through haproxy with a few connections in parallel, each request
 * on a new connection, and counts what it gets. stop() resolves once the requests in flight ended.
 */
function startClient(port: number, parallel = 4) {
  const stats = { ok: 0, failed: [] as string[], answers: new Map<string, number>() };
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const body = (await request(port)).trim();
        if (/^web\d+ \S+$/.test(body)) {
          stats.ok++;
          stats.answers.set(body, (stats.answers.get(body) ?? 0) + 1);
          continue;
        }
        stats.failed.push(body);
      } catch (err) {
        stats.failed.push(String(err));
      }
      await new Promise((r) => setTimeout(r, 50)); // after a failure: no busy loop against a broken haproxy

    }
  };
  const loops = Array.from({ length: parallel }, loop);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** Samples the backend while a run goes: the most hosts ever out of rotation at once. */
function watchRotation(socket: string, hosts: () => readonly string[]) {
  let maxOut = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const live = await inRotation(socket).catch(() => undefined);
      if (live) maxOut = Math.max(maxOut, hosts().filter((h) => !live.includes(h)).length);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return maxOut;
    },
  };
}

describe("the seed demo: a rolling code release behind a real haproxy", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let haproxy: Haproxy;
  let dir: string;
  let env: Record<string, string>;
  let conn: Connection;
  let service: Proc;
  let lb: Proc;
  const web: WebHost[] = [];
  const events: ReactorEvent[] = [];
  const apps: number[] = [];

  const serviceLog = () => service.err().slice(-3000);
  const find = (tag: string | RegExp, pred: (e: ReactorEvent) => boolean = () => true) =>
    events.find((e) => (typeof tag === "string" ? e.tag === tag : tag.test(e.tag)) && pred(e));

  /** The `ret` event of the orchestration of `sls` started after event index `from`. */
  const runRet = (sls: string, from: number) =>
    events.slice(from).find((e) => /^salt\/run\/[^/]+\/ret$/.test(e.tag) && (e.data["fun_args"] as unknown[])?.[0] === sls);

  /** An app folder with the example's app and deploy command, releases shipped, `current` deployed. */
  async function webHost(id: string, shipped: readonly string[], current: string): Promise<WebHost> {
    const host: WebHost = { id, dir: join(dir, id), port: await freePort() };
    await mkdir(join(host.dir, "releases"), { recursive: true });
    await copyFile(join(EXAMPLE, "app.mjs"), join(host.dir, "app.mjs"));
    await copyFile(join(EXAMPLE, "deploy.mjs"), join(host.dir, "deploy.mjs"));
    for (const v of shipped) await mkdir(join(host.dir, "releases", v));
    await writeFile(join(host.dir, "current"), `${current}\n`);
    return host;
  }

  const appStart = (h: WebHost) => [process.execPath, join(h.dir, "app.mjs"), "--dir", h.dir, "--port", String(h.port), "--name", h.id, "--pidfile", join(h.dir, "app.pid")];

  /** Starts the host's app (as it would already run on a real host), then its agent. */
  async function startWeb(h: WebHost): Promise<void> {
    const [cmd, ...args] = appStart(h);
    const child = spawn(cmd!, args, { detached: true, stdio: "ignore" });
    child.unref();
    await waitFor(() => existsSync(join(h.dir, "app.pid")), { what: `${h.id}'s app to listen` });
    apps.push(Number(await readFile(join(h.dir, "app.pid"), "utf8")));
    const url = `http://127.0.0.1:${h.port}/`;
    h.agent = await startAgentProc(dir, h.id, env, {
      service_manager: "command",
      services: {
        app: {
          check: [process.execPath, "-e", `fetch(${JSON.stringify(url)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
          start: appStart(h),
          stop: [process.execPath, "-e", `process.kill(Number(require("fs").readFileSync(${JSON.stringify(join(h.dir, "app.pid"))},"utf8")))`],
        },
      },
      grains: { roles: ["web"], app: { addr: `127.0.0.1:${h.port}`, url, dir: h.dir } },
      mine_functions: { app: [{ mine_function: "grains.get" }, "app"] },
      mine_change_events: true,
    });
  }

  before(async () => {
    nats = await natsForTests();
    haproxy = await startHaproxy([]);
    dir = await mkdtemp(join(tmpdir(), "nr-release-"));
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
    conn = await openConnection({ servers: [nats.url] });
    // The example configuration as shipped; only the key file is put in the temp dir.
    service = startCliProc(["serve", "-c", join(repoRoot(), "reactors", "reactor.yaml"), "--service-key", join(dir, "service.nk")], env);
    await waitFor(() => existsSync(join(dir, "service.nk")), { what: "the service to start" });
    const w = await watchEvents(conn, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    void (async () => {
      for await (const d of w) events.push(d.event);
    })();
    // The load balancer's agent: its key is accepted by hand (auto-accept.sls only takes web*).
    lb = await startAgentProc(dir, "lb1", env, { grains: { roles: ["lb"] }, haproxy: { socket: haproxy.socket } });
    await waitFor(() => find("salt/auth", (e) => e.data["id"] === "lb1" && e.data["act"] === "pend"), { what: "lb1 to ask for acceptance", timeoutMs: 20_000 });
    const accepted = await runCli(["key", "accept", "lb1", "--yes"], env);
    assert.equal(accepted.code, 0, accepted.stderr);
    await waitFor(() => find("salt/minion/lb1/start"), { what: () => `lb1 to start (agent: ${lb.err().slice(-1000)})`, timeoutMs: 30_000 });
  });

  after(async () => {
    for (const pid of apps) {
      try {
        process.kill(pid);
      } catch {
        // already gone
      }
    }
    for (const h of web) {
      const pidfile = join(h.dir, "app.pid");
      if (existsSync(pidfile)) {
        try {
          process.kill(Number(await readFile(pidfile, "utf8")));
        } catch {
          // already gone
        }
      }
    }
    await Promise.all([service, lb, ...web.map((h) => h.agent)].map((p) => p?.stop()));
    await conn.close();
    await haproxy.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("web hosts join haproxy by themselves: key auto-accepted, app mine entry, added, checked, enabled", async () => {
    for (const id of ["web1", "web2", "web3"]) web.push(await webHost(id, ["1.0.0", "2.0.0", "3.0.0"], "1.0.0"));
    for (const h of web) await startWeb(h);
    await waitFor(async () => (await inRotation(haproxy.socket)).join() === "web1,web2,web3", {
      what: () => `web1..3 in rotation (service: ${serviceLog()})`,
      timeoutMs: 60_000,
    });
    for (const id of ["web1", "web2", "web3"]) {
      // Its return event follows the last step (enable) by a moment.
      const ret = await waitFor(
        () =>
          find(/^salt\/run\/[^/]+\/ret$/, (e) => {
            const [sls, kw] = e.data["fun_args"] as [string, { pillar?: { id?: string } }];
            return sls === "orch.app-host-added" && kw.pillar?.id === id;
          }),
        { what: `the return of the add orchestration of ${id}` },
      );
      assert.equal(ret.data["success"], true, JSON.stringify(ret.data));
    }
    assert.deepEqual(await answersThrough(haproxy.port), ["web1 1.0.0", "web2 1.0.0", "web3 1.0.0"]);
  });

  it("a webhook-style event rolls 2.0.0 out one host at a time; the client sees no failed request", async (t) => {
    const client = startClient(haproxy.port);
    const rotation = watchRotation(haproxy.socket, () => ["web1", "web2", "web3"]);
    const from = events.length;
    const sent = await runCli(["event", "send", "salt/netapi/hook/release", JSON.stringify({ post: { version: "2.0.0" }, headers: {} })], env);
    assert.equal(sent.code, 0, sent.stderr);
    const ret = await waitFor(() => runRet("orch.release", from), { what: () => `the release to finish (service: ${serviceLog()})`, timeoutMs: 120_000 });
    const maxOut = await rotation.stop();
    // A few more requests once every host is back.
    await waitFor(() => client.stats.ok > 0);
    const stats = await client.stop();

    const result = ret.data["return"] as { retcode: number; data: StepResults };
    assert.equal(result.retcode, 0, JSON.stringify(result));
    const steps = Object.entries(result.data["reactor_master"]!).sort((a, b) => a[1].__run_num__ - b[1].__run_num__);
    assert.deepEqual(
      steps.map(([tag]) => tag.split("_|-")[1]),
      ["web1", "web2", "web3"].flatMap((h) => ["out", "deploy", "restart", "check", "in"].map((s) => `${s}_${h}`)),
    );
    assert.ok(steps.every(([, r]) => r.result === true));
    t.diagnostic(`release of 3 hosts: ${stats.ok} requests through haproxy, ${stats.failed.length} failed, at most ${maxOut} host out at once`);
    assert.equal(maxOut, 1, "never more than one host out of rotation");
    assert.deepEqual(stats.failed, [], `failed requests through haproxy (of ${stats.ok + stats.failed.length})`);
    assert.ok(stats.ok >= 20, `the client kept requesting during the release (${stats.ok})`);
    assert.ok(stats.answers.has("web1 2.0.0") && stats.answers.has("web3 1.0.0"), `the client saw old and new versions: ${[...stats.answers.keys()].join(", ")}`);
    assert.deepEqual(await inRotation(haproxy.socket), ["web1", "web2", "web3"]);
    assert.deepEqual(await answersThrough(haproxy.port), ["web1 2.0.0", "web2 2.0.0", "web3 2.0.0"]);
  });

  it("a release that fails on web2 stops there: web2 stays out of rotation, web3 is not touched, no request fails", async (t) => {
    await rm(join(web[1]!.dir, "releases", "3.0.0"), { recursive: true }); // never shipped to web2
    const client = startClient(haproxy.port);
    const from = events.length;
    const sent = await runCli(["event", "send", "salt/netapi/hook/release", JSON.stringify({ post: { version: "3.0.0" }, headers: {} })], env);
    assert.equal(sent.code, 0, sent.stderr);
    const ret = await waitFor(() => runRet("orch.release", from), { what: () => `the release to finish (service: ${serviceLog()})`, timeoutMs: 120_000 });
    await waitFor(() => client.stats.ok > 0);
    const stats = await client.stop();

    const result = ret.data["return"] as { retcode: number; data: StepResults };
    t.diagnostic(`failed release: ${stats.ok} requests through haproxy, ${stats.failed.length} failed`);
    assert.equal(result.retcode, 1);
    const byId = byStateId(result.data);
    assert.equal(byId["in_web1"]?.result, true);
    assert.equal(byId["out_web2"]?.result, true);
    assert.equal(byId["deploy_web2"]?.result, false);
    assert.match(JSON.stringify(byId["deploy_web2"]), /was not shipped/);
    assert.equal(byId["restart_web2"], undefined, "nothing after the failed step ran");
    assert.equal(byId["out_web3"], undefined);
    assert.deepEqual(await inRotation(haproxy.socket), ["web1", "web3"]);
    assert.deepEqual(stats.failed, [], `failed requests through haproxy (of ${stats.ok + stats.failed.length})`);
    assert.deepEqual(await answersThrough(haproxy.port), ["web1 3.0.0", "web3 2.0.0"]);

    // The run is recorded: `reactor orchestrate status JID` shows it later.
    const status = await runCli(["orchestrate", "status", String(ret.data["jid"]), "--json"], env);
    assert.equal(status.code, 0, status.stderr);
    const run = JSON.parse(status.stdout) as { retcode: number; notRun: string[] };
    assert.equal(run.retcode, 1);
    assert.ok(run.notRun.some((t) => t.includes("in_web2")) && run.notRun.some((t) => t.includes("out_web3")), JSON.stringify(run.notRun));
  });

  it("a deleted key takes its host out of haproxy; a newly accepted host joins; no request fails", async (t) => {
    const client = startClient(haproxy.port);
    const deleted = await runCli(["key", "delete", "web3", "--yes"], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    await web[2]!.agent!.stop();
    await waitFor(async () => !(await backendServers(haproxy.socket)).has("web3"), { what: () => `web3 to leave haproxy (service: ${serviceLog()})`, timeoutMs: 30_000 });
    // Its job consumer went with its key (an agent's durable consumer would otherwise stay forever).
    await assert.rejects(conn.jsm.consumers.info("JOBS", jobDurable("web3")), /consumer not found/);
    assert.ok(await conn.jsm.consumers.info("JOBS", jobDurable("web1")));

    const web4 = await webHost("web4", ["3.0.0"], "3.0.0");
    web.push(web4);
    await startWeb(web4);
    await waitFor(async () => (await inRotation(haproxy.socket)).join() === "web1,web4", { what: () => `web4 in rotation (service: ${serviceLog()})`, timeoutMs: 60_000 });
    assert.deepEqual(await answersThrough(haproxy.port), ["web1 3.0.0", "web4 3.0.0"]);
    const stats = await client.stop();
    t.diagnostic(`host removed and added: ${stats.ok} requests through haproxy, ${stats.failed.length} failed`);
    assert.deepEqual(stats.failed, [], `failed requests through haproxy (of ${stats.ok + stats.failed.length})`);
    assert.ok(stats.answers.has("web4 3.0.0"), "the client reached the new host");
  });

  it("reactor orchestrate from the CLI: mine lookups, salt.wheel key.* and salt.runner event.send; other runners fail clearly", async () => {
    const file = join(dir, "cli.sls");
    await writeFile(
      file,
      [
        "{% set hosts = mine('roles:web', 'app', tgt_type='grain') %}",
        "keys:",
        "  salt.wheel:",
        "    - name: key.list_all",
        "announce:",
        "  salt.runner:",
        "    - name: event.send",
        "    - tag: myco/release/hosts",
        "    - data:",
        "        hosts: {{ hosts | sort | list | json }}",
        "elsewhere:",
        "  salt.runner:",
        "    - name: jobs.list_jobs",
        "",
      ].join("\n"),
    );
    const from = events.length;
    const cli = await runCli(["orchestrate", file, "--json"], env);
    assert.equal(cli.code, 1, cli.stderr);
    const result = JSON.parse(cli.stdout) as { data: StepResults };
    const byId = byStateId(result.data);
    assert.equal(byId["keys"]?.result, true, JSON.stringify(byId["keys"]));
    assert.deepEqual((byId["keys"]!.changes.return as { minions: string[] }).minions, ["lb1", "web1", "web2", "web4"]);
    assert.equal(byId["announce"]?.result, true, JSON.stringify(byId["announce"]));
    const announced = await waitFor(() => events.slice(from).find((e) => e.tag === "myco/release/hosts"), { what: "the runner's event" });
    assert.deepEqual(announced.data["hosts"], ["web1", "web2", "web4"], "web3's mine data went with its key");
    assert.equal(byId["elsewhere"]?.result, false);
    assert.match(JSON.stringify(byId["elsewhere"]), /runs in the reactor service/);
  });

  it("an agent killed in the middle of a step: the step fails after its timeout, the run ends and says so", async () => {
    const file = join(dir, "slow.sls");
    await writeFile(
      file,
      [
        "slow:",
        "  salt.function:",
        "    - name: cmd.run",
        "    - tgt: web4",
        "    - arg: [ [ sleep, '30' ] ]",
        "    - timeout: 4",
        "after:",
        "  salt.function:",
        "    - name: test.ping",
        "    - tgt: web4",
        "    - require:",
        "      - salt: slow",
        "cleanup:",
        "  test.succeed_without_changes:",
        "    - onfail:",
        "      - salt: slow",
        "",
      ].join("\n"),
    );
    const from = events.length;
    const run = startCli(["orchestrate", file, "--json"], env);
    const exit = new Promise<number | null>((resolve) => run.child.once("exit", (code) => resolve(code)));
    await waitFor(() => events.slice(from).find((e) => /^salt\/job\/[^/]+\/new$/.test(e.tag) && e.data["fun"] === "cmd.run"), { what: "the slow job to be sent" });
    await web[3]!.agent!.kill();
    const code = await exit;
    assert.equal(code, 1, run.err());
    const result = JSON.parse(run.out()) as { retcode: number; data: StepResults };
    const byId = byStateId(result.data);
    assert.equal(byId["slow"]?.result, false);
    assert.match(byId["slow"]!.comment, /did not return|web4/i);
    assert.equal(byId["after"]?.result, false, "a step requiring the failed one does not run");
    assert.equal(byId["cleanup"]?.result, true, "the onfail step runs");
  });
});
