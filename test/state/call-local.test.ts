/**
 * A masterless state run end to end (reactor call --local's code path): agent.yaml with
 * file_roots and a command-managed service; file.managed from a salt:// template, service.running
 * watching it (a changed file restarts the service: its pid changes), cmd.wait run by a watch,
 * cmd.run guarded by `creates`, and a second run with nothing to change.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { callLocal, formatCallOutput } from "../../src/apps/index.js";
import { silentLogger } from "../../src/core/index.js";

const dir = mkdtempSync(join(tmpdir(), "call-local-"));
const pidfile = join(dir, "svc.pid");
after(() => {
  try {
    process.kill(Number(readFileSync(pidfile, "utf8")), "SIGKILL");
  } catch {
    // not running
  }
  rmSync(dir, { recursive: true, force: true });
});

function setUp(): string {
  mkdirSync(join(dir, "roots", "app"), { recursive: true });
  writeFileSync(
    join(dir, "agent.yaml"),
    [
      "id: mless1",
      `state_dir: ${join(dir, "state")}`,
      "file_client: local",
      "service_manager: command",
      "file_roots:",
      "  base:",
      `    - ${join(dir, "roots")}`,
      "grains:",
      "  role: app",
      "services:",
      "  demo:",
      `    check: ["sh", "-c", "kill -0 $(cat ${pidfile}) 2>/dev/null"]`,
      `    start: ["sh", "-c", "sleep 600 & echo $! > ${pidfile}"]`,
      `    stop: ["sh", "-c", "kill $(cat ${pidfile})"]`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "roots", "app", "demo.conf.j2"), "role={{ grains['role'] }}\nport={{ port }}\n");
  writeFileSync(
    join(dir, "roots", "app", "init.sls"),
    [
      "demo-conf:",
      "  file.managed:",
      `    - name: ${join(dir, "demo.conf")}`,
      "    - source: salt://app/demo.conf.j2",
      "    - template: jinja",
      "    - context:",
      "        port: {{ salt['pillar.get']('port', 8080) }}",
      "demo:",
      "  service.running:",
      "    - watch:",
      "      - file: demo-conf",
      "note-change:",
      "  cmd.wait:",
      `    - name: echo changed >> ${join(dir, "changes.log")}`,
      "    - watch:",
      "      - file: demo-conf",
      "once:",
      "  cmd.run:",
      `    - name: touch ${join(dir, "once")}`,
      `    - creates: ${join(dir, "once")}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "roots", "top.sls"), "base:\n  'role:app':\n    - match: grain\n    - app\n");
  return join(dir, "agent.yaml");
}

const pid = () => readFileSync(pidfile, "utf8").trim();

void describe("reactor call --local state.apply", () => {
  it("applies a tree, restarts the watching service on a change, and is idempotent", async () => {
    const configPath = setUp();
    const apply = async () =>
      (await callLocal({ configPath, fun: "state.apply", arg: [], kwarg: {}, log: silentLogger })).ret;
    const first = await apply();
    assert.equal(first.retcode, 0, JSON.stringify(first.return));
    const results = first.return as Record<
      string,
      { result: boolean; changes: Record<string, unknown>; __run_num__: number }
    >;
    assert.deepEqual(
      Object.keys(results).sort(),
      [
        "cmd_|-note-change_|-echo changed >> " + join(dir, "changes.log") + "_|-wait",
        "cmd_|-once_|-touch " + join(dir, "once") + "_|-run",
        "file_|-demo-conf_|-" + join(dir, "demo.conf") + "_|-managed",
        "service_|-demo_|-demo_|-running",
      ].sort(),
    );
    assert.equal(readFileSync(join(dir, "demo.conf"), "utf8"), "role=app\nport=8080\n");
    const pid1 = pid();

    const second = await apply();
    assert.equal(second.retcode, 0);
    for (const r of Object.values(second.return as Record<string, { changes: object }>))
      assert.deepEqual(r.changes, {}, "nothing to change");
    assert.equal(pid(), pid1, "no change, no restart");

    writeFileSync(
      join(dir, "roots", "app", "demo.conf.j2"),
      "role={{ grains['role'] }}\nport={{ port }}\nmode=fast\n",
    );
    const third = await apply();
    assert.equal(third.retcode, 0, JSON.stringify(third.return));
    const svc = (third.return as Record<string, { changes: Record<string, unknown>; comment: string }>)[
      "service_|-demo_|-demo_|-running"
    ]!;
    assert.deepEqual([svc.changes, svc.comment], [{ demo: true }, "Service restarted"]);
    assert.notEqual(pid(), pid1, "the watch restarted the service");
    assert.equal(
      readFileSync(join(dir, "changes.log"), "utf8"),
      "changed\nchanged\n",
      "cmd.wait ran on the two runs that changed the file",
    );
    const text = formatCallOutput("local", third.return, "highstate");
    assert.match(text, /Summary for local\n-+\nSucceeded: 4 \(changed=3\)\nFailed: +0/);
  });

  it("fails a bad state with retcode 2 and a render error with retcode 1", async () => {
    const configPath = setUp();
    writeFileSync(join(dir, "roots", "bad.sls"), "nope:\n  file.managed:\n    - name: relative/path\n");
    writeFileSync(join(dir, "roots", "broken.sls"), "x: [\n");
    const bad = (
      await callLocal({ configPath, fun: "state.sls", arg: ["bad"], kwarg: {}, log: silentLogger })
    ).ret;
    assert.equal(bad.retcode, 2);
    const broken = (
      await callLocal({ configPath, fun: "state.sls", arg: ["broken"], kwarg: {}, log: silentLogger })
    ).ret;
    assert.equal(broken.retcode, 1);
    assert.match(JSON.stringify(broken.return), /Rendering SLS 'base:broken' failed: broken\.sls/);
  });
});

void describe("saltutil.sync_modules and cp.get_template, masterless", () => {
  it("reloads a changed user module and renders a salt:// template to a file", async () => {
    const configPath = setUp();
    const mods = join(dir, "modules");
    mkdirSync(mods, { recursive: true });
    writeFileSync(configPath, `${readFileSync(configPath, "utf8")}modules_dir: ${mods}\n`);
    writeFileSync(join(mods, "hello.mjs"), "export async function world() { return 'v1'; }\n");
    const call = async (fun: string, arg: unknown[] = [], kwarg: Record<string, unknown> = {}) => (await callLocal({ configPath, fun, arg, kwarg, log: silentLogger })).ret;
    assert.equal((await call("hello.world")).return, "v1");
    // one process: sync_modules must pick up the edit within the same registry (state.sls calls below use it)
    writeFileSync(join(dir, "roots", "sync.sls"), "sync:\n  module.run:\n    - saltutil.sync_modules: []\n    - hello.world: []\n");
    writeFileSync(join(mods, "hello.mjs"), "export async function world() { return 'v2'; }\n");
    const r = await call("state.sls", ["sync"]);
    const res = Object.values(r.return as Record<string, { changes: Record<string, unknown> }>)[0]!;
    assert.deepEqual(res.changes["saltutil.sync_modules"], ["modules.hello"]);
    assert.equal(res.changes["hello.world"], "v2");
    const dest = join(dir, "rendered.conf");
    assert.equal((await call("cp.get_template", ["salt://app/demo.conf.j2", dest], { port: 9 })).return, dest);
    assert.equal(readFileSync(dest, "utf8"), "role=app\nport=9\n");
  });
});
