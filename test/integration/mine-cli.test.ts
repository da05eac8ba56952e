import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { openConnection, type Connection } from "../../src/bus/index.js";
import { mineGet } from "../../src/cli/commands/mine.js";
import { TargetSyntaxError } from "../../src/core/index.js";
import { createMinePublisher, minionKey, openMineStore, openMinionsStore } from "../../src/mine/index.js";
import { natsForTests } from "../helpers/nats-server.js";

describe("reactor mine get", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;

  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url] });
    const mine = await openMineStore(conn);
    const minions = await openMinionsStore(conn);
    const now = new Date();
    const agents: [string, string, Date][] = [
      ["web1", "10.0.0.1", now],
      ["web2", "10.0.0.2", now],
      ["web3", "10.0.0.3", new Date(now.getTime() - 3600_000)],
    ];
    for (const [id, ip, stamp] of agents) {
      await minions.put(minionKey(id), { id, grains: { roles: ["web"] }, last_seen: now.toISOString() });
      const p = createMinePublisher({ agentId: id, functions: { "network.ip_addrs": [] }, intervalMs: 60_000, run: async () => [ip], store: mine, clock: () => stamp });
      await p.update();
      await p.send("secret", "test.echo", [], { allow_tgt: "db*" });
    }
  });
  after(async () => {
    await conn.close();
    await nats.stop();
  });

  const run = async (tgt: string, fun: string, opts: Record<string, unknown> = {}) => {
    const lines: string[] = [];
    const code = await mineGet(tgt, fun, { tgtType: "glob", nats: nats.url, ...opts }, (s) => lines.push(s));
    return { code, text: lines.join("\n") };
  };

  it("prints a table and says that stale values were left out", async () => {
    assert.deepEqual(await run("web*", "network.ip_addrs"), {
      code: 0,
      text: [
        "MINION  VALUE",
        'web1    ["10.0.0.1"]',
        'web2    ["10.0.0.2"]',
        "1 stale value(s) left out (older than the maximum age; --stale shows them)",
      ].join("\n"),
    });
  });

  it("prints one JSON object; --stale marks old values", async () => {
    const { code, text } = await run("web3", "network.ip_addrs", { json: true, stale: true, tgtType: "list" });
    assert.equal(code, 0);
    const got = JSON.parse(text) as Record<string, { stale: boolean; value: unknown }>;
    assert.deepEqual(Object.keys(got), ["web3"]);
    assert.equal(got["web3"]?.stale, true);
    assert.deepEqual(got["web3"]?.value, ["10.0.0.3"]);
  });

  it("applies allow_tgt with --as and says so; exits 1 when nothing is returned", async () => {
    assert.deepEqual(await run("web1", "secret", { as: "web2" }), { code: 1, text: "no values\n1 value(s) left out by the mine ACL (mine_get / allow_tgt)" });
    assert.deepEqual(await run("G@roles:web and not web3", "secret,network.ip_addrs", { tgtType: "compound", json: true }), {
      code: 0,
      text: JSON.stringify({ secret: { web1: ["10.0.0.1"], web2: ["10.0.0.2"] }, "network.ip_addrs": { web1: ["10.0.0.1"], web2: ["10.0.0.2"] } }),
    });
  });

  it("rejects a bad target type and a bad compound target", async () => {
    await assert.rejects(run("*", "x", { tgtType: "nodegroup" }), { message: '--tgt-type must be one of glob, pcre, list, grain, compound (got "nodegroup")' });
    await assert.rejects(run("( web*", "x", { tgtType: "compound" }), TargetSyntaxError);
  });
});
