import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, readFile, stat, writeFile, mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createBuiltinRegistry, loadUserModules, parseDf } from "../../src/agent/index.js";
import { silentLogger } from "../../src/core/index.js";
import { waitFor } from "../helpers/wait.js";
import { RecordingSink, job, testConfig, testExecutor } from "../fixtures/agent/harness.js";

const exec = testExecutor();
const call = (fun: string, arg: unknown[] = [], kwarg: Record<string, unknown> = {}) =>
  exec.run(job(fun, arg, kwarg));
const tmp = () => mkdtemp(join(tmpdir(), "agent-modules-"));

/** A process that exists and is not a zombie (PID 1 of a container may not reap orphans). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

void describe("test module", () => {
  void it("ping, echo, version, arg", async () => {
    const ping = await call("test.ping");
    assert.deepEqual(ping, {
      id: "test-agent",
      jid: ping.jid,
      fun: "test.ping",
      fun_args: [],
      return: true,
      retcode: 0,
      success: true,
    });
    assert.match(ping.jid, /^\d{20}$/);
    assert.equal((await call("test.echo", ["hi"])).return, "hi");
    assert.equal((await call("test.echo", [], { text: "kw" })).return, "kw");
    assert.match(String((await call("test.version")).return), /^\d+\.\d+\.\d+/);
    const r = await call("test.arg", [1, "a"], { k: "v", __pub_jid: "x" });
    assert.deepEqual(r.return, { args: [1, "a"], kwargs: { k: "v" } });
    assert.deepEqual(r.fun_args, [1, "a", { k: "v", __pub_jid: "x" }]);
  });

  void it("missing and extra arguments fail with a clear message", async () => {
    const missing = await call("test.echo");
    assert.deepEqual(missing, {
      id: "test-agent",
      jid: missing.jid,
      fun: "test.echo",
      fun_args: [],
      return: "Passed invalid arguments to test.echo: missing required argument 'text'",
      retcode: 1,
      success: false,
    });
    assert.equal(
      (await call("test.echo", ["a", "b"])).return,
      "Passed invalid arguments to test.echo: takes 1 positional argument but 2 were given",
    );
    assert.equal(
      (await call("test.ping", [], { verbose: true })).return,
      "Passed invalid arguments to test.ping: got an unexpected keyword argument 'verbose'",
    );
    assert.equal(
      (await call("test.echo", ["a"], { text: "b" })).return,
      "Passed invalid arguments to test.echo: got multiple values for argument 'text'",
    );
    assert.equal(
      (await call("test.sleep", ["soon"])).return,
      `Passed invalid arguments to test.sleep: argument 'length' must be a number, got "soon"`,
    );
  });
});

void describe("cmd module", () => {
  void it("cmd.run splits a string into argv without a shell and returns stdout+stderr", async () => {
    const r = await call("cmd.run", ["echo 'a  b' $HOME |"]);
    assert.equal(r.return, "a  b $HOME |");
    assert.equal(r.retcode, 0);
    const both = await call("cmd.run", [
      ["node", "-e", "process.stdout.write('out\\n'); setTimeout(() => process.stderr.write('err\\n'), 50)"],
    ]);
    assert.equal(both.return, "out\nerr");
  });

  void it("cmd.run with python_shell runs /bin/sh, and the command's exit code is the job's retcode", async () => {
    const r = await call("cmd.run", ["echo $((6*7)) | tr 4 X; exit 3"], { python_shell: true });
    assert.deepEqual([r.return, r.retcode, r.success], ["X2", 3, false]);
    const ignored = await call("cmd.run", ["exit 3"], { python_shell: true, ignore_retcode: true });
    assert.deepEqual([ignored.retcode, ignored.success], [0, true]);
  });

  void it("cmd.retcode returns the code; cmd.run_all returns Salt's map", async () => {
    const rc = await call("cmd.retcode", [["sh", "-c", "exit 4"]]);
    assert.deepEqual([rc.return, rc.retcode], [4, 0]);
    const all = await call("cmd.run_all", [["sh", "-c", "echo o; echo e >&2; exit 2"]]);
    const ret = all.return as Record<string, unknown>;
    assert.deepEqual({ ...ret, pid: 0 }, { pid: 0, retcode: 2, stdout: "o", stderr: "e" });
    assert.ok(typeof ret["pid"] === "number" && ret["pid"] > 0);
    assert.equal(all.retcode, 2);
  });

  void it("cwd, env and stdin", async () => {
    const dir = await tmp();
    assert.equal((await call("cmd.run", ["pwd"], { cwd: dir })).return, dir);
    assert.equal(
      (await call("cmd.run", ["printenv GREETING"], { env: { GREETING: "hello there" } })).return,
      "hello there",
    );
    assert.equal((await call("cmd.run", ["cat"], { stdin: "from stdin\n" })).return, "from stdin");
    assert.equal(
      (await call("cmd.run", ["pwd"], { cwd: "rel" })).return,
      `Passed invalid arguments to cmd.run: argument 'cwd' must be an absolute path, got "rel"`,
    );
  });

  void it("a missing command fails with a clear message", async () => {
    const r = await call("cmd.run", ["no-such-command-xyz --flag"]);
    assert.deepEqual(
      [r.return, r.retcode, r.success],
      ["ERROR: command not found: no-such-command-xyz", 1, false],
    );
  });

  void it("the timeout option kills the child and everything it started", async () => {
    const dir = await tmp();
    const pidfile = join(dir, "child.pid");
    const r = await call("cmd.run", [`sleep 30 & echo $! > ${pidfile}; wait`], {
      python_shell: true,
      timeout: 0.5,
    });
    assert.deepEqual([r.return, r.success], [`ERROR: command "/bin/sh" timed out after 0.5 s`, false]);
    const pid = Number(await readFile(pidfile, "utf8"));
    await waitFor(() => !alive(pid), { what: `pid ${pid} to be killed` });
  });

  void it("runas runs the command as another user when the agent is root, and fails clearly when not", async () => {
    const r = await call("cmd.run", ["id -un"], { runas: "nobody" });
    if (process.getuid?.() === 0) assert.equal(r.return, "nobody");
    else assert.equal(r.return, "ERROR: cmd.run: runas=nobody needs the agent to run as root");
  });

  void it("cmd.script runs a local script with arguments", async () => {
    const dir = await tmp();
    const script = join(dir, "s.sh");
    await writeFile(script, '#!/bin/sh\necho "$1|$2"\n', { mode: 0o755 });
    const r = await call("cmd.script", [script, "'a b' c"]);
    assert.equal((r.return as { stdout: string }).stdout, "a b|c");
    assert.equal(
      (await call("cmd.script", ["s.sh"])).return,
      `Passed invalid arguments to cmd.script: source must be an absolute path on the agent, got "s.sh"`,
    );
  });
});

void describe("file module", () => {
  void it("touch, exists, write, read, remove", async () => {
    const dir = await tmp();
    const f = join(dir, "a.txt");
    assert.equal((await call("file.exists", [f])).return, false);
    assert.equal((await call("file.touch", [f])).return, true);
    assert.equal((await call("file.exists", [f])).return, true);
    assert.equal((await call("file.write", [f, "one", "two"])).return, `Wrote 2 lines to "${f}"`);
    assert.equal((await call("file.read", [f])).return, "one\ntwo\n");
    assert.equal((await call("file.touch", [f], { atime: 1000, mtime: 2000 })).return, true);
    assert.equal((await stat(f)).mtimeMs, 2_000_000);
    assert.equal((await call("file.remove", [f])).return, true);
    assert.equal((await call("file.remove", [f])).return, false);
    await mkdir(join(dir, "d", "e"), { recursive: true });
    assert.equal((await call("file.remove", [join(dir, "d")])).return, true);
    assert.equal((await call("file.exists", [join(dir, "d")])).return, false);
  });

  void it("rejects relative paths and NUL bytes; reports I/O errors", async () => {
    assert.equal(
      (await call("file.read", ["etc/passwd"])).return,
      "Passed invalid arguments to file.read: File path must be absolute: etc/passwd",
    );
    assert.equal(
      (await call("file.touch", ["/tmp/a\0b"])).return,
      `Passed invalid arguments to file.touch: File path must not contain NUL bytes: "/tmp/a\\u0000b"`,
    );
    const r = await call("file.read", ["/nonexistent-dir/x"]);
    assert.match(String(r.return), /^ERROR: file\.read: \/nonexistent-dir\/x: ENOENT/);
  });
});

void describe("grains, network, disk, status", () => {
  const cfg = testConfig("grains: { roles: [ web ], os: Custom, site: { dc: fra1 } }\n");
  const g = testExecutor({ config: cfg });
  void it("grains.items has detected grains with static grains over them", async () => {
    const items = (await g.run(job("grains.items"))).return as Record<string, unknown>;
    assert.equal(items["id"], "test-agent");
    assert.equal(items["os"], "Custom");
    assert.equal(items["kernel"], "Linux");
    assert.equal(items["nodename"], hostname());
    assert.ok(Array.isArray(items["ipv4"]) && (items["ipv4"] as string[]).includes("127.0.0.1"));
    assert.ok(typeof items["num_cpus"] === "number" && items["num_cpus"] > 0);
    assert.ok(typeof items["mem_total"] === "number" && items["mem_total"] > 0);
    assert.equal(typeof items["fqdn"], "string");
  });

  void it("grains.get looks up nested keys with a default", async () => {
    assert.equal((await g.run(job("grains.get", ["site:dc"]))).return, "fra1");
    assert.equal((await g.run(job("grains.get", ["roles:0"]))).return, "web");
    assert.equal((await g.run(job("grains.get", ["site:rack"]))).return, "");
    assert.equal((await g.run(job("grains.get", ["site:rack", "r1"]))).return, "r1");
    assert.equal((await g.run(job("grains.get", ["site/dc"], { delimiter: "/" }))).return, "fra1");
  });

  void it("network.ip_addrs leaves out loopback unless asked", async () => {
    const plain = (await call("network.ip_addrs")).return as string[];
    assert.ok(!plain.includes("127.0.0.1"));
    assert.ok(plain.every((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)));
    assert.deepEqual(
      (await call("network.ip_addrs", [], { include_loopback: true, cidr: "127.0.0.0/8" })).return,
      ["127.0.0.1"],
    );
  });

  void it("disk.usage reports the root mount in Salt's shape", async () => {
    const usage = (await call("disk.usage")).return as Record<string, Record<string, string>>;
    assert.deepEqual(Object.keys(usage["/"] ?? {}).sort(), [
      "1K-blocks",
      "available",
      "capacity",
      "filesystem",
      "used",
    ]);
    assert.deepEqual(
      parseDf(
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 40 60 40% /mnt/my disk\n",
      ),
      {
        "/mnt/my disk": {
          filesystem: "/dev/sda1",
          "1K-blocks": "100",
          used: "40",
          available: "60",
          capacity: "40%",
        },
      },
    );
  });

  void it("status.loadavg, meminfo, uptime", async () => {
    assert.deepEqual(Object.keys((await call("status.loadavg")).return as object), [
      "1-min",
      "5-min",
      "15-min",
    ]);
    const mem = (await call("status.meminfo")).return as Record<string, { value: string; unit?: string }>;
    assert.equal(mem["MemTotal"]?.unit, "kB");
    const up = (await call("status.uptime")).return as Record<string, unknown>;
    assert.ok(typeof up["seconds"] === "number" && up["seconds"] >= 0);
  });
});

void describe("event and sys modules", () => {
  void it("event.send nests data under data, with the agent id, caused by the job", async () => {
    const sink = new RecordingSink();
    const e = testExecutor({ sink });
    const r = await e.run(
      job("event.send", ["myco/deploy/done"], { data: { version: 3 } }, { causationId: "evt-1", depth: 2 }),
    );
    assert.equal(r.return, true);
    assert.deepEqual(sink.events, [
      {
        tag: "myco/deploy/done",
        data: { data: { version: 3 }, id: "test-agent" },
        opts: { causationId: "evt-1", depth: 3 },
      },
    ]);
  });

  void it("sys.list_functions lists every function, or those of a module", async () => {
    const all = (await call("sys.list_functions")).return as string[];
    for (const f of [
      "test.ping",
      "cmd.run",
      "service.restart",
      "file.touch",
      "grains.get",
      "network.ip_addrs",
      "disk.usage",
      "status.loadavg",
      "event.send",
      "sys.list_functions",
    ]) {
      assert.ok(all.includes(f), f);
    }
    assert.deepEqual((await call("sys.list_functions", ["test"])).return, [
      "test.arg",
      "test.echo",
      "test.ping",
      "test.sleep",
      "test.version",
    ]);
  });
});

void describe("registry and user modules", () => {
  void it("the composition root adds modules; a clash is refused", () => {
    const reg = createBuiltinRegistry();
    reg.add("beacons", { list: async () => ({}) });
    assert.ok(reg.list().includes("beacons.list"));
    assert.throws(() => reg.add("test", { ping: async () => false }), {
      name: "ExecutionError",
      message: "test.ping is already registered",
    });
  });

  void it("loads .js/.mjs files from modules_dir as <file>.<function>", async () => {
    const dir = await tmp();
    await writeFile(
      join(dir, "site.mjs"),
      "export async function hello(args, kwargs, ctx) { return `hello ${args[0]} ${kwargs.x} from ${ctx.config.id}`; }\nexport const _private = () => 1;\n",
    );
    await writeFile(join(dir, "broken.js"), "export function (\n");
    await writeFile(join(dir, "notes.txt"), "ignored");
    const reg = createBuiltinRegistry();
    const res = await loadUserModules(reg, dir, silentLogger);
    assert.deepEqual(res.loaded, ["site.hello"]);
    assert.deepEqual(
      res.errors.map((e) => e.file),
      [join(dir, "broken.js")],
    );
    const r = await testExecutor({ registry: reg }).run(job("site.hello", ["you"], { x: 1 }));
    assert.equal(r.return, "hello you 1 from test-agent");
  });
});
