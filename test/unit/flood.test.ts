import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { compileServiceConfig } from "../../src/config/index.js";
import { createEvent } from "../../src/core/index.js";
import { engineConfig, FloodGate, ReactionLedger, ReactorEngine, Throttler } from "../../src/reactor/index.js";
import { memoryKv } from "../helpers/memory-kv.js";

describe("flood control per source", () => {
  it("lets a burst through, then the sustained rate, and reports drops at most once a second", () => {
    let now = 0;
    const gate = new FloodGate(10, 20, () => now);
    const results = Array.from({ length: 25 }, () => gate.take("web1"));
    assert.equal(results.filter((r) => r.ok).length, 20);
    const reports = results.filter((r) => !r.ok && r.report !== undefined);
    assert.deepEqual(reports, [{ ok: false, report: 1 }]);
    now = 500; // half a second: 5 tokens back
    assert.equal(Array.from({ length: 8 }, () => gate.take("web1")).filter((r) => r.ok).length, 5);
    now = 1000; // the first report was at 0: the next drop reports what piled up since
    assert.equal(gate.take("web1").ok, true); // 5 more tokens by now
    for (let i = 0; i < 4; i++) gate.take("web1");
    assert.deepEqual(gate.take("web1"), { ok: false, report: 8 });
    assert.equal(gate.take("db1").ok, true, "other sources have their own bucket");
    assert.equal(new FloodGate(0, 1).take("x").ok, true, "rate 0 means no limit");
  });

  it("drops an agent's flood in the engine and reports it; trusted senders are not limited", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "nr-flood-"));
    await writeFile(join(dir, "r.sls"), "");
    const config = compileServiceConfig("limits: { per_source_rate: 5, per_source_burst: 10 }\nreactor:\n  - 'flood/*': r.sls\n", join(dir, "reactor.yaml"));
    const audits: string[] = [];
    const engine = new ReactorEngine(engineConfig(config), {
      ledger: new ReactionLedger(memoryKv()),
      throttler: new Throttler(memoryKv()),
      ports: { resolveTargets: async () => [], publishJob: async () => undefined, emit: async () => undefined, runners: {}, wheel: {} },
      audit: async (tag) => void audits.push(tag),
      verify: (e) => ({ ok: true, trusted: e.source === "reactor" }),
    });
    for (let i = 0; i < 30; i++) await engine.handle(createEvent({ tag: "flood/x", source: "web1" }));
    for (let i = 0; i < 30; i++) await engine.handle(createEvent({ tag: "flood/x", source: "reactor" }));
    assert.equal(engine.counters.flooded, 20);
    assert.deepEqual(audits.filter((t) => t.startsWith("reactor/source/")), ["reactor/source/web1/flood"]);
  });

  it("limits ids that share one signing key together: ten ids of one key get one bucket", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "nr-flood-"));
    await writeFile(join(dir, "r.sls"), "");
    const config = compileServiceConfig("limits: { per_source_rate: 5, per_source_burst: 10 }\nreactor:\n  - 'flood/*': r.sls\n", join(dir, "reactor.yaml"));
    const audits: { tag: string; data: Record<string, unknown> }[] = [];
    const engine = new ReactorEngine(engineConfig(config), {
      ledger: new ReactionLedger(memoryKv()),
      throttler: new Throttler(memoryKv()),
      ports: { resolveTargets: async () => [], publishJob: async () => undefined, emit: async () => undefined, runners: {}, wheel: {} },
      audit: async (tag, data) => void audits.push({ tag, data }),
      verify: (e) => ({ ok: true, key: e.source.startsWith("sybil") ? "UKEY1" : `U${e.source}` }),
    });
    // 10 ids x 3 events = 30 events signed with one key: the key's burst of 10 passes, 20 are dropped
    for (let i = 0; i < 3; i++) for (let n = 0; n < 10; n++) await engine.handle(createEvent({ tag: "flood/x", source: `sybil${n}` }));
    assert.equal(engine.counters.flooded, 20);
    const flood = audits.filter((a) => a.tag.startsWith("reactor/source/"));
    assert.equal(flood.length, 1, "reported once a second per key");
    assert.equal(flood[0]!.data["limited_by"], "key");
    assert.equal(flood[0]!.data["key"], "UKEY1");
    for (let n = 0; n < 10; n++) await engine.handle(createEvent({ tag: "flood/x", source: `web${n}` }));
    assert.equal(engine.counters.flooded, 20, "ids with their own keys keep their own buckets");
  });
});
