import { after, before, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { job, testExecutor } from "../fixtures/agent/harness.js";
import { request, startHaproxy, type Haproxy } from "../fixtures/haproxy/haproxy.js";

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
