import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileServiceConfig } from "../../src/config/index.js";
import { BusError, createEvent, type JobRequest } from "../../src/core/index.js";
import { engineConfig, ReactionLedger, ReactorEngine, Throttler } from "../../src/reactor/index.js";
import { memoryKv } from "../helpers/memory-kv.js";

describe("engine: the bus fails during dispatch (a leader election)", () => {
  it("gives the event back instead of recording the reaction as failed, and the redelivery dispatches the same jid once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-redeliver-"));
    await writeFile(join(dir, "r.sls"), "job:\n  local.test.ping:\n    - tgt: web1\n");
    const config = compileServiceConfig("reactor:\n  - 'x/*': r.sls\n", join(dir, "reactor.yaml"));
    let failures = 6; // more than the in-place retries (3 + 1 attempts)
    const jobs: JobRequest[] = [];
    const ledgerKv = memoryKv<never>();
    const engine = new ReactorEngine(engineConfig(config), {
      ledger: new ReactionLedger(ledgerKv as never),
      throttler: new Throttler(memoryKv()),
      ports: {
        resolveTargets: async () => ["web1"],
        publishJob: async (_id, job) => {
          if (failures-- > 0) throw new BusError("jetstream is not enabled");
          jobs.push(job);
        },
        emit: async () => undefined,
        runners: {},
        wheel: {},
      },
      audit: async () => undefined,
      sleep: async () => undefined,
    });
    const ev = createEvent({ tag: "x/y" });
    await assert.rejects(engine.handle(ev), (err: Error) => err instanceof BusError && /dispatch of job failed after 4 attempts: jetstream is not enabled/.test(err.message));
    assert.equal(engine.counters.failed, 0, "not recorded as failed");
    await engine.handle(ev); // the redelivery
    await engine.handle(ev); // and a late duplicate delivery
    assert.equal(jobs.length, 1);
    assert.equal(engine.counters.dispatched, 1);
    assert.equal(engine.counters.duplicates, 1);
    const rec = await new ReactionLedger(ledgerKv as never).get(ev.id, "job");
    assert.equal(rec?.state, "dispatched");
    assert.equal(rec?.jid, jobs[0]!.jid);
  });
});
