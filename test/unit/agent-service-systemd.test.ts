import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServiceManager, createSystemdServiceManager, unitName } from "../../src/agent/index.js";
import { ServiceError } from "../../src/core/index.js";
import { fixturePath, job, testConfig, testExecutor } from "../fixtures/agent/harness.js";

const FAKE = fixturePath("fake-systemctl.mjs");

async function fakeState(init: { active?: string[]; units?: string[]; fail?: string[] }) {
  const file = join(await mkdtemp(join(tmpdir(), "fake-systemctl-")), "state.json");
  await writeFile(file, JSON.stringify({ active: [], units: [], fail: [], log: [], ...init }));
  process.env["FAKE_SYSTEMCTL_STATE"] = file;
  return async () => JSON.parse(await readFile(file, "utf8")) as { active: string[]; log: string[][] };
}

void describe("systemd service manager", () => {
  void it("maps names to units", () => {
    assert.equal(unitName("nginx"), "nginx.service");
    assert.equal(unitName("nginx.service"), "nginx.service");
    assert.equal(unitName("backup.timer"), "backup.timer");
    assert.equal(unitName("php8.2-fpm"), "php8.2-fpm.service");
  });

  void it("runs systemctl with argv and reads exit codes", async () => {
    const read = await fakeState({ units: ["nginx.service"], fail: ["broken.service"] });
    const sm = createSystemdServiceManager({ systemctl: FAKE });
    assert.equal(sm.kind, "systemd");
    assert.equal(await sm.available("nginx"), true);
    assert.equal(await sm.available("nope"), false);
    assert.equal(await sm.status("nginx"), false);
    assert.equal(await sm.start("nginx"), true);
    assert.equal(await sm.status("nginx"), true);
    assert.equal(await sm.reload("nginx"), true);
    assert.equal(await sm.stop("nginx"), true);
    assert.equal(await sm.status("nginx"), false);
    assert.equal(await sm.restart("broken"), false);
    const { log } = await read();
    assert.deepEqual(log.slice(0, 6), [
      ["list-unit-files", "--no-legend", "--no-pager", "--full", "nginx.service"],
      ["list-unit-files", "--no-legend", "--no-pager", "--full", "nope.service"],
      ["list-units", "--all", "--no-legend", "--no-pager", "--full", "nope.service"],
      ["is-active", "--quiet", "nginx.service"],
      ["start", "nginx.service"],
      ["is-active", "--quiet", "nginx.service"],
    ]);
  });

  void it("refuses names that would be options, and reports a missing systemctl", async () => {
    const sm = createSystemdServiceManager({ systemctl: "/nonexistent/systemctl" });
    await assert.rejects(sm.start("--all"), new ServiceError("--all", "is not a valid unit name"));
    await assert.rejects(
      sm.start("nginx"),
      new ServiceError("nginx", "systemctl start failed: command not found: /nonexistent/systemctl"),
    );
  });

  void it("service.* functions go through the service manager", async () => {
    await fakeState({ units: ["nginx.service"] });
    const serviceManager = createServiceManager(testConfig("service_manager: systemd\n"), {
      systemd: { systemctl: FAKE },
    });
    const exec = testExecutor({ serviceManager });
    assert.equal((await exec.run(job("service.start", ["nginx"]))).return, true);
    assert.equal((await exec.run(job("service.status", [], { name: "nginx" }))).return, true);
    assert.equal((await exec.run(job("service.available", ["nginx"]))).return, true);
    assert.equal(
      (await exec.run(job("service.status"))).return,
      "Passed invalid arguments to service.status: missing required argument 'name'",
    );
  });

  void it("service_manager: command gives the command manager", () => {
    assert.equal(createServiceManager(testConfig("service_manager: command\n")).kind, "command");
  });
});
