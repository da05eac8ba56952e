import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { orchestrateStatus, registerOrchestrate, runOrchestrateCommand, type OrchestrateDeps } from "../../src/cli/commands/orchestrate.js";
import { FakePorts } from "../fixtures/orch/fake-ports.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/orch/${name}`, import.meta.url));
const PILLAR = JSON.stringify({ lb: "lb1", version: "2.0", app_hosts: ["web1", "web2"] });

function deps(ports?: FakePorts) {
  const lines: string[] = [];
  const errors: string[] = [];
  let opened = 0;
  let closed = 0;
  const d: OrchestrateDeps = {
    openPorts: () => {
      opened++;
      if (!ports) return Promise.reject(new Error("no NATS in this test"));
      return Promise.resolve({ ports, close: () => Promise.resolve(void closed++) });
    },
    out: (s) => lines.push(s),
    err: (s) => errors.push(s),
    color: false,
  };
  return { d, lines, errors, counts: () => ({ opened, closed }) };
}

describe("reactor orchestrate", () => {
  it("--dry-run with list targets needs no NATS and prints the plan", async () => {
    const t = deps();
    const code = await runOrchestrateCommand(fixture("lists.sls"), { dryRun: true }, t.d);
    assert.equal(code, 0);
    assert.deepEqual(t.counts(), { opened: 0, closed: 0 });
    const text = t.lines.join("\n");
    assert.match(text, /Comment: Function haproxy.disable_server would be executed on targets lb1\n/);
    assert.match(text, /Comment: Function service.restart would be executed on targets web1, web2\n/);
    assert.match(text, /Would run: 2/);
  });

  it("runs through the opened ports; exit code is the retcode; --json prints one object", async () => {
    const ports = new FakePorts(["lb1", "web1", "web2"], (m, c) => (c.fun === "cmd.run" && m === "web2" ? { ret: "fail", retcode: 1 } : { ret: true }));
    const t = deps(ports);
    const code = await runOrchestrateCommand(fixture("deploy.sls"), { pillar: PILLAR, json: true }, t.d);
    assert.equal(code, 1);
    assert.deepEqual(t.counts(), { opened: 1, closed: 1 });
    assert.equal(t.lines.length, 1);
    const result = JSON.parse(t.lines[0]!) as { retcode: number; jid: string; not_run: string[] };
    assert.equal(result.retcode, 1);
    assert.deepEqual(result.not_run, ["salt_|-check_web2_|-http.query_|-function", "salt_|-enable_web2_|-haproxy.enable_server_|-function"]);

    const s = deps(ports);
    assert.equal(await orchestrateStatus(result.jid, {}, s.d), 0);
    assert.match(s.lines.join("\n"), new RegExp(`^jid ${result.jid}: deploy \\(.*deploy.sls\\), retcode 1`));
    assert.match(s.lines.join("\n"), /Not run:   2/);
  });

  it("shows progress as steps start and end on a terminal, and none with --json", async () => {
    const ports = new FakePorts(["lb1", "web1", "web2"], () => ({ ret: true }));
    const progress: string[] = [];
    const t = deps(ports);
    const code = await runOrchestrateCommand(fixture("lists.sls"), {}, { ...t.d, progress: (l) => progress.push(l) });
    assert.equal(code, 0);
    assert.equal(progress.length, 4);
    assert.equal(progress[0], "[1/2] drain (salt.function haproxy.disable_server) ...");
    assert.match(progress[1]!, /^\[1\/2\] \S+: ok in \d+ ms$/);
    assert.match(progress[3]!, /^\[2\/2\] \S+: ok in \d+ ms$/);
    const quiet: string[] = [];
    await runOrchestrateCommand(fixture("lists.sls"), { json: true }, { ...deps(ports).d, progress: (l) => quiet.push(l) });
    assert.deepEqual(quiet, []);
  });

  it("reports errors and exits 1: bad pillar, unknown run, a missing requisite", async () => {
    const t = deps(new FakePorts([]));
    assert.equal(await runOrchestrateCommand(fixture("deploy.sls"), { pillar: "[1]" }, t.d), 1);
    assert.equal(await orchestrateStatus("123", {}, t.d), 1);
    assert.deepEqual(t.errors, ["reactor orchestrate: --pillar must be a JSON object", "reactor orchestrate status: no orchestration run with jid 123"]);
  });

  it("registers `orchestrate FILE` and `orchestrate status JID`", () => {
    const program = new Command("reactor");
    registerOrchestrate(program, deps().d);
    const cmd = program.commands.find((c) => c.name() === "orchestrate");
    assert.ok(cmd);
    assert.deepEqual(cmd.options.map((o) => o.long), ["--pillar", "--dry-run", "--json", "--nats"]);
    assert.deepEqual(cmd.commands.map((c) => c.name()), ["status"]);
  });

  it("`orchestrate status JID --json` prints JSON although `orchestrate` has a --json of its own", async () => {
    const ports = new FakePorts([]);
    const summary = { jid: "j1", file: "f.sls", sls: "f", dryRun: false, startedAt: 0, finishedAt: 1, retcode: 0, results: {}, notRun: [] };
    await ports.runs.save("j1", summary);
    const t = deps(ports);
    const program = new Command("reactor").exitOverride();
    registerOrchestrate(program, t.d);
    await program.parseAsync(["orchestrate", "status", "j1", "--json"], { from: "user" });
    assert.deepEqual(t.lines.map((l) => JSON.parse(l) as unknown), [summary]);
    t.lines.length = 0;
    await program.parseAsync(["orchestrate", "status", "j1"], { from: "user" });
    assert.match(t.lines.join("\n"), /^jid j1: f \(f\.sls\), retcode 0/);
  });
});
