import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBuiltinRegistry, createExecutor } from "../../src/agent/index.js";
import { Latch, waitFor } from "../helpers/wait.js";
import { RecordingSink, job, noServices, testConfig, testExecutor } from "../fixtures/agent/harness.js";

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

void describe("executor", () => {
  void it("an unknown function fails with Salt's text", async () => {
    const r = await testExecutor().run(job("foo.bar", [1]));
    assert.deepEqual(r, {
      id: "test-agent",
      jid: r.jid,
      fun: "foo.bar",
      fun_args: [1],
      return: "'foo.bar' is not available.",
      retcode: 1,
      success: false,
    });
  });

  void it("an expired job is not run", async () => {
    const reg = createBuiltinRegistry();
    let ran = false;
    reg.add("probe", { mark: async () => (ran = true) });
    const exec = testExecutor({ registry: reg });
    const r = await exec.run(
      job("probe.mark", [], {}, { jid: "20250101000000000001", expires: "2025-01-01T00:00:00.000Z" }),
    );
    assert.deepEqual(
      [r.return, r.success, r.retcode],
      [
        "job 20250101000000000001 expired at 2025-01-01T00:00:00.000Z before it could start; not run",
        false,
        1,
      ],
    );
    assert.equal(ran, false);
  });

  void it("an exception becomes a failed return with its message", async () => {
    const reg = createBuiltinRegistry().add("bad", { boom: async () => Promise.reject(new Error("boom")) });
    const r = await testExecutor({ registry: reg }).run(job("bad.boom"));
    assert.deepEqual([r.return, r.success, r.retcode], ["ERROR: boom", false, 1]);
  });

  void it("the job timeout aborts the function and fails the job", async () => {
    const r = await testExecutor().run(job("test.sleep", [30], {}, { timeout: 0.2 }));
    assert.deepEqual(
      [r.return, r.success, r.retcode],
      ["ERROR: 'test.sleep' timed out after 0.2 s", false, 1],
    );
  });

  void it("the job timeout returns even when a function ignores the signal", async () => {
    const reg = createBuiltinRegistry().add("stuck", { forever: () => new Promise(() => undefined) });
    const r = await testExecutor({ registry: reg }).run(job("stuck.forever", [], {}, { timeout: 0.2 }));
    assert.equal(r.return, "ERROR: 'stuck.forever' timed out after 0.2 s");
  });

  void it("the job timeout kills the command's child processes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-exec-"));
    const pidfile = join(dir, "pid");
    const exec = testExecutor();
    const r = await exec.run(
      job("cmd.run", [`echo $$ > ${pidfile}; exec sleep 30`], { python_shell: true }, { timeout: 0.5 }),
    );
    assert.equal(r.return, "ERROR: 'cmd.run' timed out after 0.5 s");
    const pid = Number(await readFile(pidfile, "utf8"));
    await waitFor(() => !alive(pid), { what: `pid ${pid} to be killed` });
  });

  void it("a timeout of 0 uses the config's job_timeout", async () => {
    const exec = testExecutor({ config: testConfig("job_timeout: 200ms\n") });
    const r = await exec.run(job("test.sleep", [30], {}, { timeout: 0 }));
    assert.equal(r.return, "ERROR: 'test.sleep' timed out after 0.2 s");
  });

  void it("jobs run concurrently up to the cap, the rest queue; isBusy tells", async () => {
    const gates = [new Latch(), new Latch(), new Latch()];
    const started: number[] = [];
    const reg = createBuiltinRegistry().add("gate", {
      wait: async (args) => {
        const i = Number(args[0]);
        started.push(i);
        await gates[i]!.promise;
        return i;
      },
    });
    const exec = createExecutor({
      config: testConfig(),
      registry: reg,
      emit: new RecordingSink(),
      serviceManager: noServices,
      maxConcurrent: 2,
    });
    assert.equal(exec.isBusy(), false);
    const runs = [0, 1, 2].map((i) => exec.run(job("gate.wait", [i])));
    await waitFor(() => started.length === 2, { what: "two jobs to start" });
    assert.deepEqual(exec.stats(), { running: 2, queued: 1 });
    assert.equal(exec.isBusy(), true);
    gates[1]!.open();
    assert.equal((await runs[1]!).return, 1);
    await waitFor(() => started.length === 3, { what: "the queued job to start" });
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    assert.deepEqual(
      (await Promise.all(runs)).map((r) => r.return),
      [0, 1, 2],
    );
    assert.equal(exec.isBusy(), false);
    assert.deepEqual(exec.stats(), { running: 0, queued: 0 });
  });

  void it("a long job never blocks a short one", async () => {
    const gate = new Latch();
    const reg = createBuiltinRegistry().add("slow", {
      job: async () => gate.promise.then(() => "slow done"),
    });
    const exec = testExecutor({ registry: reg });
    let longDone = false;
    const long = exec.run(job("slow.job")).then((r) => ((longDone = true), r));
    assert.equal((await exec.run(job("test.ping"))).return, true);
    assert.equal(longDone, false);
    assert.equal(exec.isBusy(), true);
    gate.open();
    assert.equal((await long).return, "slow done");
  });

  void it("listFunctions lists the registry", () => {
    assert.ok(testExecutor().listFunctions().includes("cmd.run"));
  });
});
