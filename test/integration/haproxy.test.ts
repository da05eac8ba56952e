import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SOCKET } from "../../src/agent/modules/haproxy.js";
import { job, testConfig, testExecutor } from "../fixtures/agent/harness.js";
import {
  request,
  startHaproxy,
  startNameServer,
  type Haproxy,
  type NameServer,
} from "../fixtures/haproxy/haproxy.js";
import { waitFor } from "../helpers/wait.js";

const exec = testExecutor();
const call = (fun: string, arg: unknown[] = [], kwarg: Record<string, unknown> = {}) =>
  exec.run(job(fun, arg, kwarg));

/** The answers of `n` requests through the frontend, counted by server name. */
async function spread(port: number, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const who = await request(port);
    counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}

const line = (name: string, status: string, weight: number) =>
  new RegExp(`^Name: ${name} Status: ${status} Weight: ${weight} bIn: \\d+ bOut: \\d+$`);

void describe("haproxy module against a real haproxy", () => {
  let hap: Haproxy;
  let socket: string;

  before(async () => {
    hap = await startHaproxy(["s1", "s2"]);
    socket = hap.socket;
  });
  after(async () => {
    await hap?.stop();
  });

  void it("show_backends lists app; list_servers lists both servers", async () => {
    const backends = await call("haproxy.show_backends", [], { socket });
    assert.equal(backends.success, true, String(backends.return));
    assert.equal(backends.return, "app");

    const text = await call("haproxy.list_servers", ["app"], { socket });
    assert.equal(text.success, true, String(text.return));
    const lines = String(text.return).split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, line("s1", "no check", 1));
    assert.match(lines[1]!, line("s2", "no check", 1));

    const obj = await call("haproxy.list_servers", [], { backend: "app", socket, objectify: true });
    assert.deepEqual(obj.return, lines);
    assert.deepEqual(await spread(hap.port, 4), { s1: 2, s2: 2 });
  });

  void it("disable_server takes a server out of the balancing; enable_server puts it back", async () => {
    const off = await call("haproxy.disable_server", ["s1", "app"], { socket });
    assert.equal(off.success, true, String(off.return));
    const rows = (off.return as Record<string, string>).app!.split("\n");
    assert.deepEqual(Object.keys(off.return as object), ["app"]);
    assert.match(rows[0]!, line("s1", "MAINT", 1));
    assert.match(rows[1]!, line("s2", "no check", 1));
    assert.deepEqual(await spread(hap.port, 20), { s2: 20 });

    const on = await call("haproxy.enable_server", ["s1", "app"], { socket });
    assert.equal(on.success, true, String(on.return));
    assert.match((on.return as Record<string, string>).app!.split("\n")[0]!, line("s1", "no check", 1));
    const counts = await spread(hap.port, 20);
    assert.deepEqual(Object.keys(counts).sort(), ["s1", "s2"]);

    const all = await call("haproxy.disable_server", ["s2", "*"], { socket });
    assert.match((all.return as Record<string, string>).app!.split("\n")[1]!, line("s2", "MAINT", 1));
    assert.deepEqual(await spread(hap.port, 20), { s1: 20 });
    assert.equal((await call("haproxy.enable_server", ["s2", "*"], { socket })).success, true);
  });

  void it("set_weight and get_weight round-trip", async () => {
    assert.equal((await call("haproxy.get_weight", ["s2", "app"], { socket })).return, "1 (initial 1)");
    const set = await call("haproxy.set_weight", ["s2", "app", 7], { socket });
    assert.equal(set.success, true, String(set.return));
    assert.equal(set.return, "7 (initial 1)");
    assert.equal(
      (await call("haproxy.get_weight", [], { name: "s2", backend: "app", socket })).return,
      "7 (initial 1)",
    );
    assert.match(
      String((await call("haproxy.list_servers", ["app"], { socket })).return).split("\n")[1]!,
      line("s2", "no check", 7),
    );
    assert.equal(
      (await call("haproxy.set_weight", ["s2", "app", "100%"], { socket })).return,
      "1 (initial 1)",
    );
    const bad = await call("haproxy.set_weight", ["s2", "app", 999], { socket });
    assert.equal(bad.success, false);
    assert.equal(
      bad.return,
      "ERROR: haproxy.set_weight: Absolute weight can only be between 0 and 256 inclusive. (set weight app/s2 999)",
    );
  });

  void it("set_state drain, then ready", async () => {
    const drain = await call("haproxy.set_state", ["s1", "app", "drain"], { socket });
    assert.deepEqual([drain.success, drain.return], [true, ""]);
    assert.match(
      String((await call("haproxy.list_servers", ["app"], { socket })).return).split("\n")[0]!,
      line("s1", "DRAIN", 1),
    );
    assert.deepEqual(await spread(hap.port, 20), { s2: 20 });
    assert.equal((await call("haproxy.set_state", ["s1", "app", "ready"], { socket })).success, true);
    assert.match(
      String((await call("haproxy.list_servers", ["app"], { socket })).return).split("\n")[0]!,
      line("s1", "no check", 1),
    );
    assert.equal(
      (await call("haproxy.set_state", ["s1", "app", "down"], { socket })).return,
      "Passed invalid arguments to haproxy.set_state: argument 'state' must be one of ready, drain, maint, got \"down\"",
    );
  });

  void it("an unknown server or backend, a bad name or a missing socket fail with a clear message", async () => {
    const server = await call("haproxy.disable_server", ["nope", "app"], { socket });
    assert.deepEqual(
      [server.success, server.retcode, server.return],
      [false, 1, "ERROR: haproxy.disable_server: No such server. (disable server app/nope)"],
    );
    assert.equal(
      (await call("haproxy.get_weight", ["nope", "app"], { socket })).return,
      "ERROR: haproxy.get_weight: No such server. (get weight app/nope)",
    );
    assert.equal(
      (await call("haproxy.enable_server", ["nope", "*"], { socket })).return,
      "ERROR: haproxy.enable_server: No such server. (enable server */nope)",
    );
    assert.equal(
      (await call("haproxy.enable_server", ["s1", "web2"], { socket })).return,
      "ERROR: haproxy.enable_server: No such backend. (enable server web2/s1)",
    );
    assert.equal(
      (await call("haproxy.list_servers", ["web2"], { socket })).return,
      "ERROR: haproxy.list_servers: No such backend. (show stat web2)",
    );
    assert.equal(
      (await call("haproxy.disable_server", ["s1;shutdown", "app"], { socket })).return,
      "Passed invalid arguments to haproxy.disable_server: argument 'name' must be a haproxy name (letters, digits, '-', '_', '.', ':'), got \"s1;shutdown\"",
    );
    const dir = await mkdtemp(join(tmpdir(), "nr-haproxy-none-"));
    try {
      const missing = join(dir, "haproxy.sock");
      assert.equal(
        (await call("haproxy.show_backends", [], { socket: missing })).return,
        `ERROR: haproxy.show_backends: ${missing} does not exist.`,
      );
      assert.equal(
        (await call("haproxy.show_backends", [], { socket: dir })).return,
        `ERROR: haproxy.show_backends: ${dir} is not a socket.`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Both servers are still in: nothing above changed haproxy.
    assert.deepEqual(Object.keys(await spread(hap.port, 4)).sort(), ["s1", "s2"]);
  });
});

void describe("haproxy dynamic servers against a real haproxy", () => {
  let hap: Haproxy;
  let socket: string;
  let started: NameServer[] = [];
  /** A name-answering HTTP server, stopped after the test. */
  const nameServer = async (name: string) => {
    const server = await startNameServer(name);
    started.push(server);
    return server;
  };
  const ret = async (fun: string, arg: unknown[], kwarg: Record<string, unknown> = {}) => {
    const r = await call(fun, arg, { socket, ...kwarg });
    assert.equal(r.success, true, String(r.return));
    return r.return as Record<string, unknown>;
  };

  beforeEach(async () => {
    hap = await startHaproxy([]);
    socket = hap.socket;
  });
  afterEach(async () => {
    await hap?.stop();
    await Promise.all(started.map((s) => s.stop()));
    started = [];
  });

  void it("add_server adds a server in maintenance; enable_server then sends traffic to it", async () => {
    assert.equal(await ret("haproxy.list_servers", ["app"]), "");
    const a1 = await nameServer("a1");
    assert.deepEqual(await ret("haproxy.add_server", ["a1", "app", a1.addr]), {
      backend: "app",
      server: "a1",
      addr: a1.addr,
      changed: true,
      action: "added",
      servers: "Name: a1 Status: MAINT Weight: 1 bIn: 0 bOut: 0",
    });
    assert.match(await request(hap.port), /^HTTP 503: /);

    await ret("haproxy.enable_server", ["a1", "app"]);
    assert.deepEqual(await spread(hap.port, 4), { a1: 4 });
  });

  void it("add_server again: the same address is unchanged, another one moves the server and its traffic", async () => {
    const [blue, green] = [await nameServer("blue"), await nameServer("green")];
    await ret("haproxy.add_server", [], { name: "b1", backend: "app", addr: blue.addr });
    await ret("haproxy.enable_server", ["b1", "app"]);
    assert.deepEqual(await spread(hap.port, 4), { blue: 4 });

    const same = await ret("haproxy.add_server", ["b1", "app", blue.addr]);
    assert.deepEqual([same.changed, same.action, same.addr], [false, "unchanged", blue.addr]);
    assert.match(String(same.servers), line("b1", "no check", 1));

    const moved = await ret("haproxy.add_server", ["b1", "app", green.addr]);
    assert.deepEqual([moved.changed, moved.action, moved.addr], [true, "updated", green.addr]);
    assert.match(String(moved.servers), line("b1", "no check", 1));
    assert.deepEqual(await spread(hap.port, 4), { green: 4 });
  });

  void it("add_server resolves a hostname and compares the resolved address", async () => {
    const c1 = await nameServer("c1");
    const added = await ret("haproxy.add_server", ["c1", "app", `localhost:${c1.port}`]);
    assert.ok([`127.0.0.1:${c1.port}`, `[::1]:${c1.port}`].includes(String(added.addr)), String(added.addr));
    const again = await ret("haproxy.add_server", ["c1", "app", `localhost:${c1.port}`]);
    assert.deepEqual([again.changed, again.action, again.addr], [false, "unchanged", added.addr]);
  });

  void it("del_server removes a server, the others keep the traffic; an absent server is changed: false", async () => {
    const [d1, d2] = [await nameServer("d1"), await nameServer("d2")];
    for (const d of [d1, d2]) {
      await ret("haproxy.add_server", [d.name, "app", d.addr]);
      await ret("haproxy.enable_server", [d.name, "app"]);
    }
    assert.deepEqual(await spread(hap.port, 4), { d1: 2, d2: 2 });

    const deleted = await ret("haproxy.del_server", ["d2", "app"]);
    assert.deepEqual(
      [deleted.backend, deleted.server, deleted.changed, deleted.action],
      ["app", "d2", true, "deleted"],
    );
    assert.match(String(deleted.servers), line("d1", "no check", 1));
    const listed = await ret("haproxy.list_servers", ["app"], { objectify: true });
    assert.deepEqual(
      (listed as unknown as string[]).map((l) => l.split(" ")[1]),
      ["d1"],
    );
    assert.deepEqual(await spread(hap.port, 4), { d1: 4 });

    const absent = await ret("haproxy.del_server", [], { name: "d2", backend: "app" });
    assert.deepEqual([absent.changed, absent.action], [false, "absent"]);
    assert.match(String(absent.servers), line("d1", "no check", 1));
  });

  void it("del_server shuts down the sessions of a server still in use, then deletes it", async () => {
    const h1 = await nameServer("h1");
    await ret("haproxy.add_server", ["h1", "app", h1.addr]);
    await ret("haproxy.enable_server", ["h1", "app"]);
    const pending = request(hap.port, "/hold").catch((err: Error) => `failed: ${err.message}`);
    await h1.held();

    const deleted = await ret("haproxy.del_server", ["h1", "app"], { drain: 0.3 });
    assert.deepEqual([deleted.changed, deleted.action, deleted.servers], [true, "deleted", ""]);
    assert.match(await pending, /^HTTP 502: /);
  });

  void it("del_server lets a request in flight finish while it drains, then deletes the server", async () => {
    const h1 = await nameServer("h1");
    await ret("haproxy.add_server", ["h1", "app", h1.addr]);
    await ret("haproxy.enable_server", ["h1", "app"]);
    const pending = request(hap.port, "/slow").catch((err: Error) => `failed: ${err.message}`);
    await h1.held();
    const deleting = ret("haproxy.del_server", ["h1", "app"], { drain: 30 });
    // Once haproxy has the server in maintenance the deletion is waiting for the request.
    await waitFor(async () => String(await ret("haproxy.list_servers", ["app"])).includes("MAINT"), { what: "h1 in maintenance" });
    h1.release();
    assert.equal(await pending, "h1", "the request in flight was answered, not cut");
    const deleted = await deleting;
    assert.deepEqual([deleted.changed, deleted.action, deleted.servers], [true, "deleted", ""]);
  });

  void it("bad addresses and names are argument errors; an unknown backend is an error", async () => {
    const prefix = "Passed invalid arguments to haproxy.add_server: argument 'addr' must be host:port";
    for (const addr of [
      "127.0.0.1",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:080",
      "127.0.0.1:80;shutdown sessions server app/x",
      "127.0.0.1:80\nshow info",
      "::1:80",
      "[127.0.0.1]:80",
      "[::1]:80 check",
      "999.1.1.1:80",
      "1.2.3:80",
      "-web.example:80",
      "web_1:80",
      "",
    ]) {
      const r = await call("haproxy.add_server", ["x1", "app", addr], { socket });
      assert.equal(r.success, false, addr);
      assert.equal(
        r.return,
        `${prefix} (an IPv4 address or a hostname, or [IPv6]), port 1-65535, got ${JSON.stringify(addr)}`,
      );
    }
    assert.equal(
      (await call("haproxy.add_server", ["x;1", "app", "127.0.0.1:80"], { socket })).return,
      "Passed invalid arguments to haproxy.add_server: argument 'name' must be a haproxy name (letters, digits, '-', '_', '.', ':'), got \"x;1\"",
    );
    assert.equal(
      (await call("haproxy.del_server", ["x1", "app\nshow info"], { socket })).return,
      "Passed invalid arguments to haproxy.del_server: argument 'backend' must be a haproxy name (letters, digits, '-', '_', '.', ':'), got \"app\\nshow info\"",
    );
    assert.equal(
      (await call("haproxy.add_server", ["x1", "web2", "127.0.0.1:80"], { socket })).return,
      "ERROR: haproxy.add_server: No such backend. (show servers state web2)",
    );
    assert.equal(
      (await call("haproxy.del_server", ["x1", "web2"], { socket })).return,
      "ERROR: haproxy.del_server: No such backend. (show servers state web2)",
    );
    assert.equal(await ret("haproxy.list_servers", ["app"]), "");
  });

  void it("the socket defaults to haproxy.socket of agent.yaml; a socket argument wins", async () => {
    const e1 = await nameServer("e1");
    const configured = testExecutor({
      config: testConfig(`haproxy:\n  socket: ${JSON.stringify(socket)}\n`),
    });
    const added = await configured.run(job("haproxy.add_server", ["e1", "app", e1.addr]));
    assert.equal(added.success, true, String(added.return));
    assert.equal((added.return as Record<string, unknown>).action, "added");
    assert.equal((await configured.run(job("haproxy.show_backends"))).return, "app");

    const dir = await mkdtemp(join(tmpdir(), "nr-haproxy-none-"));
    try {
      const missing = join(dir, "haproxy.sock");
      const elsewhere = testExecutor({
        config: testConfig(`haproxy:\n  socket: ${JSON.stringify(missing)}\n`),
      });
      assert.equal(
        (await elsewhere.run(job("haproxy.del_server", ["e1", "app"]))).return,
        `ERROR: haproxy.del_server: ${missing} does not exist.`,
      );
      const given = await elsewhere.run(job("haproxy.del_server", ["e1", "app", socket]));
      assert.equal(given.success, true, String(given.return));
      assert.equal((given.return as Record<string, unknown>).action, "deleted");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it(
    "without a socket argument or haproxy.socket, the socket is Salt's /var/run/haproxy.sock",
    { skip: existsSync(DEFAULT_SOCKET) && `${DEFAULT_SOCKET} exists on this host` },
    async () => {
      assert.equal(DEFAULT_SOCKET, "/var/run/haproxy.sock");
      assert.equal(
        (await call("haproxy.show_backends")).return,
        "ERROR: haproxy.show_backends: /var/run/haproxy.sock does not exist.",
      );
    },
  );
});
