// The `command` service manager against a real HTTP service process (examples/demo-web.mjs),
// through the executor's service.* functions.
import { after, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServiceManager } from "../../src/agent/index.js";
import { compileAgentConfig } from "../../src/config/index.js";
import { waitFor } from "../helpers/wait.js";
import { repoRoot } from "../helpers/paths.js";
import { job, testExecutor } from "../fixtures/agent/harness.js";

const DEMO = join(repoRoot(), "examples", "demo-web.mjs");

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const addr = srv.address();
  await new Promise((r) => srv.close(r));
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

async function pidOf(pidfile: string): Promise<number | undefined> {
  const text = await readFile(pidfile, "utf8").catch(() => "");
  return text.trim() ? Number(text) : undefined;
}

void describe("command service manager with a real service", async () => {
  const dir = await mkdtemp(join(tmpdir(), "agent-svc-"));
  const port = await freePort();
  const pidfile = join(dir, "demo-web.pid");
  const check = `fetch('http://127.0.0.1:${port}/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  const yaml = `
service_manager: command
services:
  demo-web:
    check: ${JSON.stringify([process.execPath, "-e", check])}
    start: ${JSON.stringify([process.execPath, DEMO, "--port", String(port), "--pidfile", pidfile])}
    stop: ${JSON.stringify(["sh", "-c", `kill $(cat ${pidfile})`])}
`;
  const config = compileAgentConfig(yaml, join(dir, "agent.yaml"), { hostname: "test-agent" });
  const exec = testExecutor({
    config,
    serviceManager: createServiceManager(config, { command: { pollMs: 50 } }),
  });
  const call = async (fun: string, name: string) => (await exec.run(job(fun, [name]))).return;

  after(async () => {
    const pid = await pidOf(pidfile);
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  void it("knows which services are configured", async () => {
    assert.equal(await call("service.available", "demo-web"), true);
    assert.equal(await call("service.available", "nginx"), false);
    assert.equal(
      await call("service.status", "nginx"),
      `ERROR: service "nginx": not configured in the agent's services (configured: demo-web)`,
    );
    assert.equal(
      await call("service.reload", "demo-web"),
      `ERROR: service "demo-web": has no reload command in the agent's services`,
    );
  });

  void it("starts the service detached and sees it running", async () => {
    assert.equal(await call("service.status", "demo-web"), false);
    assert.equal(await call("service.start", "demo-web"), true);
    assert.equal(await call("service.status", "demo-web"), true);
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    const pid = await waitFor(() => pidOf(pidfile), { what: "the pidfile" });
    assert.equal(body, `ok ${pid}\n`);
    assert.equal(await call("service.start", "demo-web"), true, "starting a running service is a success");
  });

  void it("a killed service is seen as stopped, and restart brings it back", async () => {
    const pid = await waitFor(() => pidOf(pidfile), { what: "the pidfile" });
    process.kill(pid, "SIGKILL");
    await waitFor(async () => (await call("service.status", "demo-web")) === false, { what: "status false" });
    assert.equal(await call("service.restart", "demo-web"), true);
    assert.equal(await call("service.status", "demo-web"), true);
    const newPid = await waitFor(
      async () => {
        const p = await pidOf(pidfile);
        return p !== pid && p;
      },
      { what: "a new pid" },
    );
    assert.notEqual(newPid, pid);
  });

  void it("stops the service with its stop command", async () => {
    assert.equal(await call("service.stop", "demo-web"), true);
    assert.equal(await call("service.status", "demo-web"), false);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });

  void it("a start command that cannot run fails clearly", async () => {
    const bad = compileAgentConfig(
      `services:\n  ghost:\n    check: [ "false" ]\n    start: [ "/nonexistent/ghostd" ]\n    stop: [ "true" ]\n`,
      join(dir, "b.yaml"),
      { hostname: "h" },
    );
    const e = testExecutor({
      config: bad,
      serviceManager: createServiceManager({ ...bad, service_manager: "command" }),
    });
    assert.equal(
      (await e.run(job("service.start", ["ghost"]))).return,
      `ERROR: service "ghost": start command failed: command not found: /nonexistent/ghostd`,
    );
  });
});
