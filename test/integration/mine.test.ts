import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { openConnection, type Connection } from "../../src/bus/index.js";
import { TargetSyntaxError, type Logger } from "../../src/core/index.js";
import {
  createMineCache,
  templateMine,
  createMineModule,
  createMinePublisher,
  createMineReader,
  mineKey,
  minionKey,
  openMineStore,
  openMinionsStore,
  type MineRunner,
} from "../../src/mine/index.js";
import { natsForTests, uniqueName } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

const T0 = Date.parse("2024-05-01T12:00:00.000Z");

/** Simulated agents: id, grains, address. */
const AGENTS = [
  { id: "web1.example.com", grains: { os: "Debian", roles: ["web"] }, ip: "10.0.0.11" },
  { id: "web2.example.com", grains: { os: "Ubuntu", roles: ["web"] }, ip: "10.0.0.12" },
  { id: "db1.example.com", grains: { os: "Debian", roles: ["db"] }, ip: "10.0.1.11" },
  { id: "lb1.example.com", grains: { os: "Debian", roles: ["lb"] }, ip: "10.0.2.11" },
];

/** A fake executor: network.ip_addrs returns the agent's address; records every call. */
function fakeRunner(ip: string, calls: unknown[][] = []): MineRunner {
  return async (fun, args, kwargs) => {
    calls.push([fun, args, kwargs]);
    if (fun === "network.ip_addrs") return [ip];
    if (fun === "test.echo") return args[0];
    if (fun === "grains.item") return { [String(args[0])]: "x" };
    if (fun === "broken.fun") throw new Error("boom: no such thing");
    return { fun, args, kwargs };
  };
}

/** A logger that records warnings. */
function recordingLogger(lines: { obj: object; msg?: string }[]): Logger {
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => void lines.push({ obj, msg }),
    error: (obj, msg) => void lines.push({ obj, msg }),
    child: () => log,
  };
  return log;
}

describe("mine against a real nats-server", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;

  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url] });
  });
  after(async () => {
    await conn.close();
    await nats.stop();
  });

  /** Fresh buckets, the four agents registered and each publishing network.ip_addrs at T0. */
  async function fleet(opts: { clock?: () => Date; agents?: typeof AGENTS } = {}) {
    const mine = await openMineStore(conn, { bucket: uniqueName("mine"), storage: "memory" });
    const minions = await openMinionsStore(conn, { bucket: uniqueName("minions"), storage: "memory" });
    const publishers = [];
    for (const a of opts.agents ?? AGENTS) {
      await minions.put(minionKey(a.id), { id: a.id, grains: a.grains, last_seen: new Date(T0).toISOString() });
      const p = createMinePublisher({
        agentId: a.id,
        functions: { "network.ip_addrs": [] },
        intervalMs: 60_000,
        run: fakeRunner(a.ip),
        store: mine,
        clock: opts.clock ?? (() => new Date(T0)),
      });
      assert.deepEqual(await p.update(), { stored: ["network.ip_addrs"], failed: [] });
      publishers.push(p);
    }
    return { mine, minions, publishers };
  }

  it("runs Salt's three mine_functions forms and stores each result with its stamp and interval", async () => {
    const mine = await openMineStore(conn, { bucket: uniqueName("mine"), storage: "memory" });
    const calls: unknown[][] = [];
    const p = createMinePublisher({
      agentId: "web1.example.com",
      functions: {
        "network.ip_addrs": [],
        "grains.item": ["os"],
        "disk.usage": { path: "/" },
        internal_ip: [{ mine_function: "network.ip_addrs" }, { cidr: "10.0.0.0/8" }, "eth0"],
        echo_map: { mine_function: "test.echo", text: "t" },
        secret: [{ mine_function: "test.echo" }, "s3cr3t", { allow_tgt: "db*", allow_tgt_type: "glob" }],
      },
      intervalMs: 90_000,
      run: fakeRunner("10.0.0.11", calls),
      store: mine,
      clock: () => new Date(T0),
    });
    const summary = await p.start();
    await p.stop();
    assert.deepEqual(summary, { stored: ["network.ip_addrs", "grains.item", "disk.usage", "internal_ip", "echo_map", "secret"], failed: [] });
    assert.deepEqual(calls, [
      ["network.ip_addrs", [], {}],
      ["grains.item", ["os"], {}],
      ["disk.usage", [], { path: "/" }],
      ["network.ip_addrs", ["eth0"], { cidr: "10.0.0.0/8" }],
      ["test.echo", [], { text: "t" }],
      ["test.echo", ["s3cr3t"], {}],
    ]);
    const get = async (name: string) => (await mine.get(mineKey("web1.example.com", name)))?.value;
    assert.deepEqual(await get("network.ip_addrs"), {
      id: "web1.example.com",
      fun: "network.ip_addrs",
      value: ["10.0.0.11"],
      stamp: "2024-05-01T12:00:00.000Z",
      interval_s: 90,
    });
    assert.deepEqual(await get("internal_ip"), {
      id: "web1.example.com",
      fun: "internal_ip",
      mine_function: "network.ip_addrs",
      value: ["10.0.0.11"],
      stamp: "2024-05-01T12:00:00.000Z",
      interval_s: 90,
    });
    assert.deepEqual((await get("secret"))?.allow_tgt, "db*");
    assert.deepEqual((await get("secret"))?.value, "s3cr3t");
    assert.equal(mineKey("web1.example.com", "network.ip_addrs"), "web1=2Eexample=2Ecom.network=2Eip_addrs");
  });

  it("reports a failing function and still stores the others", async () => {
    const mine = await openMineStore(conn, { bucket: uniqueName("mine"), storage: "memory" });
    const logged: { obj: object; msg?: string }[] = [];
    const p = createMinePublisher({
      agentId: "web1",
      functions: { "broken.fun": [], "network.ip_addrs": [] },
      intervalMs: 0,
      run: fakeRunner("10.0.0.1"),
      store: mine,
      log: recordingLogger(logged),
    });
    assert.deepEqual(await p.start(), {
      stored: ["network.ip_addrs"],
      failed: [{ name: "broken.fun", fun: "broken.fun", error: "boom: no such thing" }],
    });
    assert.deepEqual(logged.map((l) => l.msg), ["mine function broken.fun failed; skipped"]);
    assert.equal(await mine.get(mineKey("web1", "broken.fun")), undefined);
    assert.deepEqual((await mine.get(mineKey("web1", "network.ip_addrs")))?.value.value, ["10.0.0.1"]);
  });

  it("runs again every interval until stopped; stop is idempotent", async () => {
    const mine = await openMineStore(conn, { bucket: uniqueName("mine"), storage: "memory" });
    const calls: unknown[][] = [];
    const p = createMinePublisher({ agentId: "a1", functions: { "test.ping": [] }, intervalMs: 20, run: fakeRunner("x", calls), store: mine });
    await p.start();
    await waitFor(() => calls.length >= 3, { what: "three mine runs" });
    const stopped = p.stop();
    assert.equal(p.stop(), stopped);
    await stopped;
    const n = calls.length;
    await p.update();
    assert.equal(calls.length, n + 1);
  });

  it("gets by every target type, over accepted agents only", async () => {
    const { mine, minions } = await fleet();
    await minions.put(minionKey("pending1"), { id: "pending1", grains: { roles: ["web"] }, last_seen: new Date(T0).toISOString(), key_state: "pending" });
    await mine.put(mineKey("pending1", "network.ip_addrs"), { id: "pending1", fun: "network.ip_addrs", value: ["10.9.9.9"], stamp: new Date(T0).toISOString(), interval_s: 60 });
    const reader = createMineReader({ mine, minions, now: () => T0 + 1000 });
    const fun = "network.ip_addrs";
    assert.deepEqual(await reader.get("*", fun), {
      "db1.example.com": ["10.0.1.11"],
      "lb1.example.com": ["10.0.2.11"],
      "web1.example.com": ["10.0.0.11"],
      "web2.example.com": ["10.0.0.12"],
    });
    assert.deepEqual(Object.keys(await reader.get("web*", fun, "glob")), ["web1.example.com", "web2.example.com"]);
    assert.deepEqual(Object.keys(await reader.get("(db|lb)1", fun, "pcre")), ["db1.example.com", "lb1.example.com"]);
    assert.deepEqual(Object.keys(await reader.get("lb1.example.com,web2.example.com", fun, "list")), ["lb1.example.com", "web2.example.com"]);
    assert.deepEqual(Object.keys(await reader.get(["db1.example.com"], fun, "list")), ["db1.example.com"]);
    assert.deepEqual(Object.keys(await reader.get("roles:web", fun, "grain")), ["web1.example.com", "web2.example.com"]);
    assert.deepEqual(Object.keys(await reader.get("G@os:Debian and not G@roles:db", fun, "compound")), ["lb1.example.com", "web1.example.com"]);
    assert.deepEqual(await reader.get("web1*", [fun, "missing.fun"]), { [fun]: { "web1.example.com": ["10.0.0.11"] }, "missing.fun": {} });
    await assert.rejects(reader.get("web* and", fun, "compound"), TargetSyntaxError);
  });

  it("hides values older than the maximum age (3 x interval by default) and marks them with includeStale", async () => {
    const { mine, minions } = await fleet();
    let now = T0 + 180_000; // exactly 3 x 60 s: still fresh
    const reader = createMineReader({ mine, minions, now: () => now });
    assert.equal(Object.keys(await reader.get("*", "network.ip_addrs")).length, 4);
    now += 1;
    const r = await reader.query("web1*", "network.ip_addrs");
    assert.deepEqual(r, { values: {}, omitted: [{ minion: "web1.example.com", fun: "network.ip_addrs", reason: "stale" }] });
    assert.deepEqual(await reader.get("web1*", "network.ip_addrs", "glob", { includeStale: true }), {
      "web1.example.com": { stale: true, value: ["10.0.0.11"], stamp: "2024-05-01T12:00:00.000Z" },
    });
    assert.deepEqual(Object.keys(await reader.get("web1*", "network.ip_addrs", "glob", { maxAgeMs: 3600_000 })), ["web1.example.com"]);
    const strict = createMineReader({ mine, minions, now: () => T0 + 10_001, maxAgeMs: 10_000 });
    assert.deepEqual(await strict.get("*", "network.ip_addrs"), {});
  });

  it("purges an agent's entries and only that agent's", async () => {
    const { mine, minions, publishers } = await fleet();
    await publishers[0]!.send("extra", "test.echo", ["hello"], {});
    const reader = createMineReader({ mine, minions, now: () => T0 });
    assert.equal(await reader.purgeAgent("web1.example.com"), 2);
    assert.deepEqual(Object.keys(await reader.get("*", "network.ip_addrs")), ["db1.example.com", "lb1.example.com", "web2.example.com"]);
    assert.deepEqual(await reader.get("*", "extra"), {});
    assert.equal(await reader.purgeAgent("web1.example.com"), 0);
  });

  it("applies the mine_get ACL and allow_tgt: logs and omits what a requester may not read", async () => {
    const { mine, minions, publishers } = await fleet();
    await publishers[2]!.send("db_password", "test.echo", ["s3cr3t"], { allow_tgt: "G@roles:web", allow_tgt_type: "compound" });
    const logged: { obj: object; msg?: string }[] = [];
    const acl = { "web.*": ["network\\..*", "db_.*"], "lb1\\.": ["network.ip_addrs"] };
    const reader = createMineReader({ mine, minions, acl, now: () => T0, log: recordingLogger(logged) });

    assert.deepEqual(await reader.get("db*", "db_password", "glob", { requester: "web1.example.com" }), { "db1.example.com": "s3cr3t" });
    const byLb = await reader.query("db*", "db_password", "glob", { requester: "lb1.example.com" });
    assert.deepEqual(byLb, { values: {}, omitted: [{ minion: "db1.example.com", fun: "db_password", reason: "mine_get" }] });
    const byDb = await reader.query("*", ["db_password", "network.ip_addrs"], "glob", { requester: "db1.example.com" });
    assert.deepEqual(byDb.values, { db_password: {}, "network.ip_addrs": {} });
    assert.equal(byDb.omitted.length, 8);
    assert.ok(byDb.omitted.every((o) => o.reason === "mine_get"));

    const open = createMineReader({ mine, minions, now: () => T0, log: recordingLogger(logged) });
    const byLbOpen = await open.query("db*", "db_password", "glob", { requester: "lb1.example.com" });
    assert.deepEqual(byLbOpen, { values: {}, omitted: [{ minion: "db1.example.com", fun: "db_password", reason: "allow_tgt" }] });
    assert.deepEqual(await open.get("db*", "db_password"), { "db1.example.com": "s3cr3t" }, "operators are not restricted");
    assert.deepEqual(logged.map((l) => l.msg), Array(3).fill("mine.get: values left out by the mine ACL"));
  });

  it("gives reactor templates a synchronous lookup that follows changes (haproxy backends)", async () => {
    const { mine, minions } = await fleet();
    const reader = createMineReader({ mine, minions, now: () => T0 });
    const cache = await createMineCache(reader);
    try {
      const backends = () =>
        Object.entries(cache.lookup("G@roles:web", "network.ip_addrs", "compound")).map(([id, ips]) => `server ${id} ${(ips as string[])[0]}:80 check`);
      assert.deepEqual(backends(), ["server web1.example.com 10.0.0.11:80 check", "server web2.example.com 10.0.0.12:80 check"]);

      const web3 = { id: "web3.example.com", grains: { os: "Debian", roles: ["web"] }, ip: "10.0.0.13" };
      await minions.put(minionKey(web3.id), { id: web3.id, grains: web3.grains, last_seen: new Date(T0).toISOString() });
      const p = createMinePublisher({ agentId: web3.id, functions: { "network.ip_addrs": [] }, intervalMs: 60_000, run: fakeRunner(web3.ip), store: mine, clock: () => new Date(T0) });
      await p.update();
      await waitFor(() => backends().length === 3, { what: "web3 in the cache" });
      assert.equal(backends()[2], "server web3.example.com 10.0.0.13:80 check");

      await reader.purgeAgent("web1.example.com");
      await waitFor(() => backends().length === 2, { what: "web1 gone from the cache" });
      assert.deepEqual(cache.lookup("*", "network.ip_addrs"), await reader.get("*", "network.ip_addrs"));
      assert.throws(() => cache.lookup("( web*", "network.ip_addrs", "compound"), TargetSyntaxError);

      // As templates call it: positional or keyword tgt_type (Salt's old expr_form too).
      const mineFn = templateMine(cache);
      const byGrain = cache.lookup("roles:web", "network.ip_addrs", "grain");
      assert.equal(Object.keys(byGrain).length, 2);
      assert.deepEqual(mineFn("roles:web", "network.ip_addrs", { tgt_type: "grain" }), byGrain);
      assert.deepEqual(mineFn("roles:web", "network.ip_addrs", { expr_form: "grain" }), byGrain);
      assert.deepEqual(mineFn("roles:web", "network.ip_addrs", "grain"), byGrain);
      assert.deepEqual(mineFn("web*", "network.ip_addrs"), cache.lookup("web*", "network.ip_addrs"));
      assert.throws(() => mineFn("web*", "network.ip_addrs", { tgt_type: 3 }), /tgt_type must be a string/);
    } finally {
      cache.stop();
    }
  });

  it("watches changes of targeted agents", async () => {
    const { mine, minions, publishers } = await fleet();
    const reader = createMineReader({ mine, minions });
    const w = await reader.watch("web*", "network.ip_addrs");
    const it = w[Symbol.asyncIterator]();
    await publishers[2]!.send("network.ip_addrs", undefined, [], {}); // db1: not targeted
    await publishers[1]!.send("network.ip_addrs", undefined, [], {});
    const first = await it.next();
    assert.equal(first.done, false);
    assert.equal(first.value?.id, "web2.example.com");
    assert.equal(first.value?.op, "put");
    await publishers[0]!.delete("network.ip_addrs");
    assert.deepEqual((await it.next()).value, { id: "web1.example.com", fun: "network.ip_addrs", op: "delete" });
    w.stop();
  });

  it("emits salt/mine/<id>/<fun>/changed only when a value changes, when enabled", async () => {
    const mine = await openMineStore(conn, { bucket: uniqueName("mine"), storage: "memory" });
    const events: [string, Record<string, unknown>][] = [];
    let ip = "10.0.0.1";
    const make = () =>
      createMinePublisher({
        agentId: "web1",
        functions: { "network.ip_addrs": [] },
        intervalMs: 0,
        run: async () => [ip],
        store: mine,
        clock: () => new Date(T0),
        emitChange: async (tag, data) => void events.push([tag, data]),
      });
    const p = make();
    await p.update();
    await p.update();
    ip = "10.0.0.2";
    await p.update();
    await make().update(); // a restarted agent compares with the stored value
    assert.deepEqual(events, [
      ["salt/mine/web1/network.ip_addrs/changed", { id: "web1", fun: "network.ip_addrs", stamp: "2024-05-01T12:00:00.000Z", first: true, value: ["10.0.0.1"] }],
      ["salt/mine/web1/network.ip_addrs/changed", { id: "web1", fun: "network.ip_addrs", stamp: "2024-05-01T12:00:00.000Z", first: false, value: ["10.0.0.2"] }],
    ]);
  });

  it("serves the agent's mine.* module functions", async () => {
    const { mine, minions, publishers } = await fleet();
    const reader = createMineReader({ mine, minions, now: () => T0 });
    const mod = createMineModule(publishers[0]!, reader);
    assert.equal(await mod.send(["eth0_ip", "eth0"], { mine_function: "network.ip_addrs" }), true);
    assert.deepEqual((await mine.get(mineKey("web1.example.com", "eth0_ip")))?.value.mine_function, "network.ip_addrs");
    assert.deepEqual(await mod.get(["web1*", "eth0_ip,network.ip_addrs"], {}), {
      eth0_ip: { "web1.example.com": ["10.0.0.11"] },
      "network.ip_addrs": { "web1.example.com": ["10.0.0.11"] },
    });
    assert.deepEqual(await mod.get(["roles:db", "network.ip_addrs"], { tgt_type: "grain" }), { "db1.example.com": ["10.0.1.11"] });
    await assert.rejects(mod.get(["*", "x"], { tgt_type: "nodegroup" }), { message: "Passed invalid arguments to mine.get: tgt_type must be one of glob, pcre, list, grain, compound" });
    await assert.rejects(mod.send([], {}), { message: "Passed invalid arguments to mine.send: the first argument must be the name to store under" });
    assert.equal(await mod.delete(["eth0_ip"], {}), true);
    assert.equal(await mine.get(mineKey("web1.example.com", "eth0_ip")), undefined);
    assert.deepEqual(await mod.update([], { clear: true }), { stored: ["network.ip_addrs"], failed: [] });
    assert.equal(await mod.flush([], {}), true);
    assert.deepEqual(await mine.keys("web1=2Eexample=2Ecom.*"), []);
    assert.equal((await mine.keys()).length, 3);
  });
});
