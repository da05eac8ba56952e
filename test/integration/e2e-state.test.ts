/**
 * The state system end to end with real processes: nats-server, `reactor serve` (with file_roots
 * served from its Object Store, and a reactor map entry by salt://), a real `reactor agent`. A
 * beacon event (inotify on a trigger file) fires a reactor that runs `local.state.apply`; the
 * agent fetches a salt:// template from the service, writes the config file and, through
 * `watch`, restarts the service when the config changed. A second trigger with nothing changed
 * restarts nothing; `reactor call` runs the same state through the service.
 */
import { strict as assert } from "node:assert";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, natsForTests } from "../helpers/nats-server.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { demoWebService } from "../helpers/stack.js";

interface Ret {
  tag: string;
  data: {
    fun: string;
    jid: string;
    retcode: number;
    return: Record<string, { result: boolean; changes: Record<string, unknown>; comment: string }>;
  };
}

void describe("end to end: a beacon event applies states on an agent", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let port: number;
  let pidfile: string;
  let env: Record<string, string> = {};
  const procs: ReturnType<typeof startCli>[] = [];

  before(async () => {
    nats = await natsForTests();
    dir = await mkdtemp(join(tmpdir(), "nr-e2e-state-"));
    port = await freePort();
    pidfile = join(dir, "demo-web.pid");
    const srv = join(dir, "srv");
    await mkdir(join(srv, "reactor"), { recursive: true });
    await mkdir(join(srv, "web"), { recursive: true });
    await writeFile(join(dir, "trigger"), "");
    await writeFile(
      join(dir, "reactor.yaml"),
      [
        "keys:",
        "  autosign: [ 'web*' ]",
        "  service_key: service.nk",
        "file_roots:",
        "  base:",
        "    - srv",
        "reactor:",
        "  - 'salt/beacon/*/inotify/*':",
        "    - salt://reactor/apply.sls",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(srv, "reactor", "apply.sls"),
      "apply_web:\n  local.state.apply:\n    - tgt: {{ data['id'] }}\n    - args:\n      - mods: web\n",
    );
    await writeFile(
      join(srv, "web", "demo.conf.j2"),
      "# managed\nid={{ grains['id'] }}\nversion={{ version }}\n",
    );
    await writeFile(
      join(srv, "web", "init.sls"),
      [
        "demo-conf:",
        "  file.managed:",
        `    - name: ${join(dir, "demo.conf")}`,
        "    - source: salt://web/demo.conf.j2",
        "    - template: jinja",
        "    - defaults:",
        "        version: 1",
        "demo-web:",
        "  service.running:",
        "    - watch:",
        "      - file: demo-conf",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "agent.yaml"),
      JSON.stringify({
        id: "web1",
        state_dir: join(dir, "state"),
        services: demoWebService(port, pidfile),
        beacons_file: join(dir, "beacons.yaml"),
      }),
    );
    await writeFile(
      join(dir, "beacons.yaml"),
      `beacons:\n  inotify:\n    - files:\n        ${join(dir, "trigger")}:\n          mask: [modify]\n    - disable_during_state_run: True\n`,
    );
    env = {
      NATS_URL: nats.url,
      REACTOR_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn",
      REACTOR_KEY_FILE: join(dir, "service.nk"),
    };
    procs.push(startCli(["serve", "-c", join(dir, "reactor.yaml")], env));
    procs.push(startCli(["agent", "-c", join(dir, "agent.yaml")], env));
  });

  after(async () => {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once("exit", r)))),
    );
    try {
      process.kill(Number((await readFile(pidfile, "utf8")).trim()));
    } catch {
      /* not running */
    }
    await nats.stop();
  });

  const logs = () => `agent: ${procs[1]!.err().slice(-1500)}; service: ${procs[0]!.err().slice(-1500)}`;
  const pid = async () => (await readFile(pidfile, "utf8")).trim();

  /** Touches the trigger until a new state.apply return arrives; returns it. */
  /**
   * The state.apply returns seen, less the answers "is running as PID ..." (a touch during a run
   * fires another state.apply, which Salt's one-run-at-a-time rule answers that way).
   */
  const applyRets = (watcher: ReturnType<typeof startCli>): Ret[] =>
    watcher
      .out()
      .split("\n")
      .filter((l) => l.includes('"fun":"state.apply"'))
      .map((l) => JSON.parse(l) as Ret)
      .filter((r) => !Array.isArray(r.data.return));

  async function trigger(watcher: ReturnType<typeof startCli>, seen: number): Promise<Ret> {
    const rets = () => applyRets(watcher);
    let n = 0;
    const got = await waitFor(
      async () => {
        if (rets().length > seen) return rets()[seen];
        await writeFile(join(dir, "trigger"), `touch ${n++}\n`);
        return undefined;
      },
      {
        what: `a state.apply return (${logs()}; watcher: ${watcher.err()})`,
        timeoutMs: 60_000,
        intervalMs: 1500,
      },
    );
    return got;
  }

  it("writes the config from the service's salt:// template and starts, then restarts, the service through watch", async () => {
    const watcher = startCli(["event", "watch", "salt/job/*/ret/*", "--json"], env);
    try {
      const first = await trigger(watcher, 0);
      assert.equal(first.data.retcode, 0, JSON.stringify(first.data.return));
      const conf = first.data.return[`file_|-demo-conf_|-${join(dir, "demo.conf")}_|-managed`]!;
      assert.equal(conf.result, true);
      assert.equal(await readFile(join(dir, "demo.conf"), "utf8"), "# managed\nid=web1\nversion=1\n");
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok, {
        what: "demo-web answers",
      });
      const pid1 = await pid();

      // Change the template on the service: the file server syncs it; the next beacon event applies it.
      await writeFile(
        join(dir, "srv", "web", "demo.conf.j2"),
        "# managed\nid={{ grains['id'] }}\nversion={{ version }}\nmode=fast\n",
      );
      const changed = await waitFor(
        async () => {
          const r = await trigger(watcher, applyRets(watcher).length);
          const c = r.data.return[`file_|-demo-conf_|-${join(dir, "demo.conf")}_|-managed`];
          return c && Object.keys(c.changes).length ? r : undefined;
        },
        { what: `a run that changed the config (${logs()})`, timeoutMs: 90_000, intervalMs: 100 },
      );
      const svc = changed.data.return["service_|-demo-web_|-demo-web_|-running"]!;
      assert.deepEqual(
        [svc.result, svc.changes, svc.comment],
        [true, { "demo-web": true }, "Service restarted"],
      );
      assert.match(
        String(changed.data.return[`file_|-demo-conf_|-${join(dir, "demo.conf")}_|-managed`]!.changes.diff),
        /\+mode=fast/,
      );
      await waitFor(async () => (await pid().catch(() => pid1)) !== pid1, { what: "a new demo-web pid" });
      const pid2 = await pid();

      // Nothing to change: the service is not restarted.
      const quiet = await runCli(
        ["call", "-c", join(dir, "agent.yaml"), "state.apply", "web", "queue=True", "--out", "json"],
        env,
      );
      assert.equal(quiet.code, 0, quiet.stderr + quiet.stdout);
      const ret = (JSON.parse(quiet.stdout) as { local: Record<string, { changes: object }> }).local;
      for (const r of Object.values(ret)) assert.deepEqual(r.changes, {});
      assert.equal(await pid(), pid2);
    } finally {
      watcher.child.kill("SIGINT");
    }
  });
});
