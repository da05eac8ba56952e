import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTERRUPTED_MESSAGE, JobLedger, jobReturn } from "../../src/agent/index.js";
import type { JobRequest, JobReturn } from "../../src/core/index.js";
import { Latch, waitFor } from "../helpers/wait.js";
import { job } from "../fixtures/agent/harness.js";

const stateDir = () => mkdtemp(join(tmpdir(), "agent-ledger-"));

function counter(value: unknown = "ran") {
  const calls: string[] = [];
  const exec = async (j: JobRequest): Promise<JobReturn> => {
    calls.push(j.jid);
    return jobReturn("test-agent", j, value, 0);
  };
  return { calls, exec };
}

void describe("job ledger", () => {
  void it("runs a jid once; a repeat gets the recorded return, also from a new ledger on the same dir", async () => {
    const dir = await stateDir();
    const { calls, exec } = counter({ n: 1 });
    const j = job("test.ping");
    const first = await (await JobLedger.open({ stateDir: dir, agentId: "test-agent" })).runOnce(j, exec);
    const ledger2 = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    const again = await ledger2.runOnce(j, exec);
    assert.deepEqual(again, first);
    assert.deepEqual(calls, [j.jid]);
    assert.equal((await ledger2.lookup(j.jid))?.ret?.return !== undefined, true);
  });

  void it("concurrent deliveries of one jid run it once", async () => {
    const dir = await stateDir();
    const gate = new Latch();
    let runs = 0;
    const ledger = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    const j = job("test.ping");
    const exec = async (x: JobRequest) => {
      runs++;
      await gate.promise;
      return jobReturn("test-agent", x, true, 0);
    };
    const a = ledger.runOnce(j, exec);
    const b = ledger.runOnce(j, exec);
    gate.open();
    assert.deepEqual(await a, await b);
    assert.equal(runs, 1);
  });

  void it("a jid that started but never finished is reported as interrupted, not re-run", async () => {
    const dir = await stateDir();
    const j = job("cmd.run", ["long"]);
    const ledger = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    const never = new Promise<JobReturn>(() => undefined);
    void ledger.runOnce(j, () => never); // the agent "dies" mid-job
    const { calls, exec } = counter();
    const restarted = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    await waitFor(() => restarted.lookup(j.jid), { what: "the started record" });
    const r = await restarted.runOnce(j, exec);
    assert.deepEqual(r, {
      id: "test-agent",
      jid: j.jid,
      fun: "cmd.run",
      fun_args: ["long"],
      return: INTERRUPTED_MESSAGE,
      retcode: 1,
      success: false,
    });
    assert.equal(INTERRUPTED_MESSAGE, "job was interrupted by an agent restart; not re-run");
    assert.deepEqual(calls, []);
  });

  void it("a record cut short by a crash reads as started: interrupted, not re-run; crash leftovers are pruned", async () => {
    const dir = await stateDir();
    const j = job("cmd.run", ["x"]);
    await mkdir(join(dir, "jobs"), { recursive: true });
    await writeFile(join(dir, "jobs", `${j.jid}.json`), '{"jid": "' + j.jid.slice(0, 5)); // died mid-write
    const old = join(dir, "jobs", "other.json.tmp");
    await writeFile(old, "{");
    await utimes(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const fresh = join(dir, "jobs", "busy.json.tmp");
    await writeFile(fresh, "{");
    const { calls, exec } = counter();
    const ledger = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    const r = await ledger.runOnce(j, exec);
    assert.equal(r.return, INTERRUPTED_MESSAGE);
    assert.deepEqual(calls, []);
    assert.deepEqual((await readdir(join(dir, "jobs"))).sort(), [`${j.jid}.json`, "busy.json.tmp"].sort());
  });

  void it("odd jids are stored under a hashed file name", async () => {
    const dir = await stateDir();
    const ledger = await JobLedger.open({ stateDir: dir, agentId: "test-agent" });
    const j = job("test.ping", [], {}, { jid: "../../etc/passwd" });
    await ledger.runOnce(j, counter().exec);
    const files = await readdir(join(dir, "jobs"));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^h-[0-9a-f]{64}\.json$/);
    assert.equal((await ledger.lookup("../../etc/passwd"))?.jid, "../../etc/passwd");
  });

  void it("prunes records by age and by count", async () => {
    const dir = await stateDir();
    const ledger = await JobLedger.open({
      stateDir: dir,
      agentId: "test-agent",
      maxEntries: 2,
      maxAgeMs: 86_400_000,
    });
    const jobs = [job("test.ping"), job("test.ping"), job("test.ping"), job("test.ping")];
    for (const j of jobs) await ledger.runOnce(j, counter().exec);
    const files = join(dir, "jobs");
    const base = Date.now() / 1000;
    for (const [i, j] of jobs.entries())
      await utimes(join(files, `${j.jid}.json`), base - 10 + i, base - 10 + i);
    await utimes(join(files, `${jobs[3]!.jid}.json`), base - 2 * 86_400, base - 2 * 86_400); // too old
    await writeFile(join(files, "unrelated.txt"), "kept");
    assert.equal(await ledger.prune(), 2);
    assert.deepEqual(
      (await readdir(files)).sort(),
      [`${jobs[1]!.jid}.json`, `${jobs[2]!.jid}.json`, "unrelated.txt"].sort(),
    );
  });
});
