/**
 * The examples a new user meets (reactors/, examples/) stay valid: the reactor map compiles, every
 * spec file passes `reactor test --spec`, every SLS file is exercised by a spec, the orchestration
 * plans, and the example agent and beacons files compile.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { repoRoot } from "../helpers/paths.js";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { runTest, TestExit } from "../../src/cli/commands/test.js";
import { runValidate } from "../../src/cli/commands/validate.js";
import { compileAgentConfig, loadServiceConfig, parseYaml } from "../../src/config/index.js";
import { compileBeacons } from "../../src/beacons/index.js";
import { compileOrchestration } from "../../src/orchestrate/index.js";

const ROOT = repoRoot();
const REACTORS = join(ROOT, "reactors");
const CONFIG = join(REACTORS, "reactor.yaml");
const SPECS = readdirSync(join(REACTORS, "spec"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

void describe("reactors/ examples", () => {
  void it("reactors/reactor.yaml validates: no errors; warnings only where the sample event lacks a field", async () => {
    const lines: string[] = [];
    const code = await runValidate({ config: CONFIG, json: true }, (s) => lines.push(s));
    const report = JSON.parse(lines.join("")) as { ok: boolean; findings: { severity: string; message: string }[] };
    assert.equal(code, 0);
    assert.equal(report.ok, true);
    // Salt's forms read data['service_name'] etc. without a guard; the sample event has only `id`.
    for (const f of report.findings) {
      assert.equal(f.severity, "warning");
      assert.match(f.message, /^with a sample event: 'data' has no attribute '\w+'$/);
    }
  });

  void it("there is a spec file for each example", () => {
    assert.deepEqual(SPECS, [
      "app-hosts.yaml",
      "auto-accept.yaml",
      "disk-cleanup.yaml",
      "minion-start.yaml",
      "redeploy-on-change.yaml",
      "release.yaml",
      "restart-service.yaml",
      "webhook-deploy.yaml",
    ]);
  });

  for (const spec of SPECS) {
    void it(`spec/${spec} passes`, async () => {
      const lines: string[] = [];
      const code = await runTest(undefined, undefined, { config: CONFIG, spec: join(REACTORS, "spec", spec) }, (s) => lines.push(s));
      assert.equal(code, TestExit.Ok, lines.join("\n"));
      assert.match(lines.at(-1) ?? "", /^\d+ passed, 0 failed, 0 with errors$/);
      const cases = lines.filter((l) => l.startsWith("ok "));
      assert.ok(cases.length >= 3, `spec/${spec} should prove matches and non-matches`);
    });
  }

  void it("each spec has cases that match and cases that do not", () => {
    for (const spec of SPECS) {
      const cases = parseYaml(readFileSync(join(REACTORS, "spec", spec), "utf8"), spec).value as { expect: Record<string, unknown> }[];
      assert.ok(cases.some((c) => "reactions" in c.expect), `${spec}: no case with reactions`);
      assert.ok(cases.some((c) => c.expect["none"] === true), `${spec}: no case without reactions`);
    }
  });

  void it("every SLS file of the map is referenced and every example is in the map", async () => {
    const config = await loadServiceConfig(CONFIG);
    const used = config.reactor.flatMap((e) => e.sls.flatMap((r) => r.files.map((f) => f.path))).sort();
    const present = readdirSync(REACTORS).filter((f) => f.endsWith(".sls")).sort();
    assert.deepEqual(used, present);
    assert.ok(config.reactor.some((e) => e.throttle !== undefined && e.when !== undefined), "a rich-form entry with when: and throttle:");
  });

  void it("a failing expectation makes the spec run fail (the specs are not vacuous)", async () => {
    const lines: string[] = [];
    const code = await runTest("salt/auth", '{"id": "laptop7", "act": "pend"}', { config: CONFIG, json: true }, (s) => lines.push(s));
    assert.equal(code, TestExit.Ok);
    assert.deepEqual((JSON.parse(lines.join("")) as { reactions: unknown[] }).reactions, []);
  });

  void it("reactors/orch/deploy.sls renders and plans with the webhook's pillar", async () => {
    const compiled = await compileOrchestration({ file: join(REACTORS, "orch", "deploy.sls"), pillar: { target: "web*", version: "1.2.3" }, dryRun: true });
    const steps = compiled.plan.chunks.map((c) => [c.chunk.id, c.chunk.name]);
    assert.deepEqual(steps, [
      ["ping", "test.ping"],
      ["deploy", "cmd.run"],
      ["restart", "service.restart"],
    ]);
  });

  const webHosts = {
    web2: { addr: "127.0.0.1:18082", url: "http://127.0.0.1:18082/", dir: "/srv/web2" },
    web1: { addr: "127.0.0.1:18081", url: "http://127.0.0.1:18081/", dir: "/srv/web1" },
  };

  void it("reactors/orch/release.sls plans one host at a time, in id order, from the mine", async () => {
    const lookups: unknown[] = [];
    const mine = (...args: unknown[]) => {
      lookups.push(args);
      return webHosts;
    };
    const compiled = await compileOrchestration({ file: join(REACTORS, "orch", "release.sls"), pillar: { version: "2.0.0" }, dryRun: true, mine });
    assert.deepEqual(lookups, [["roles:web", "app", { tgt_type: "grain" }]]);
    const chunks = compiled.plan.chunks.map((c) => c.chunk);
    assert.deepEqual(
      chunks.map((c) => c.id),
      ["out_web1", "deploy_web1", "restart_web1", "check_web1", "in_web1", "out_web2", "deploy_web2", "restart_web2", "check_web2", "in_web2"],
    );
    assert.ok(chunks.every((c) => c.failhard), "every step is failhard");
    const payload = (id: string) => chunks.find((c) => c.id === id)!.payload as unknown as Record<string, unknown>;
    assert.deepEqual(payload("out_web2"), { ...payload("out_web2"), fun: "haproxy.disable_server", tgt: "roles:lb", tgtType: "grain", arg: ["web2", "app"] });
    assert.deepEqual(payload("deploy_web1"), { ...payload("deploy_web1"), fun: "cmd.run", tgt: ["web1"], tgtType: "list", arg: [["node", "deploy.mjs", "2.0.0"]], kwarg: { cwd: "/srv/web1" } });
    assert.deepEqual(payload("check_web2"), { ...payload("check_web2"), fun: "http.wait_for_successful_query", arg: ["http://127.0.0.1:18082/"] });
    assert.equal((payload("check_web2")["kwarg"] as Record<string, unknown>)["match"], "web2 2.0.0");
    // host 2 waits for host 1 to be back in
    assert.deepEqual(chunks.find((c) => c.id === "out_web2")!.requisites?.require, [{ key: "salt", value: "in_web1" }]);
    assert.equal(chunks.find((c) => c.id === "out_web1")!.requisites?.require, undefined);
  });

  void it("reactors/orch/release.sls fails at once when the mine knows no web host", async () => {
    const compiled = await compileOrchestration({ file: join(REACTORS, "orch", "release.sls"), pillar: { version: "2.0.0" }, mine: () => ({}) });
    assert.deepEqual(compiled.plan.chunks.map((c) => [c.chunk.id, c.chunk.state, c.chunk.fun]), [["no_web_hosts", "test", "fail_without_changes"]]);
  });

  void it("reactors/orch/app-host-added.sls adds in maintenance, waits until the host answers, then enables", async () => {
    const compiled = await compileOrchestration({ file: join(REACTORS, "orch", "app-host-added.sls"), pillar: { id: "web4", app: webHosts.web1 }, dryRun: true });
    const chunks = compiled.plan.chunks.map((c) => c.chunk);
    assert.deepEqual(
      chunks.map((c) => [c.id, (c.payload as unknown as { fun: string }).fun]),
      [
        ["add", "haproxy.add_server"],
        ["answers", "http.wait_for_successful_query"],
        ["enable", "haproxy.enable_server"],
      ],
    );
    assert.deepEqual((chunks[0]!.payload as unknown as { arg: unknown }).arg, ["web4", "app", "127.0.0.1:18081"]);
  });
});

void describe("examples/ agent and beacons", () => {
  void it("examples/agent.yaml compiles: demo-web through per-service commands, the top-level beacons.yaml", () => {
    const file = join(ROOT, "examples", "agent.yaml");
    const agent = compileAgentConfig(readFileSync(file, "utf8"), file);
    assert.equal(agent.id, "demo1");
    assert.equal(agent.service_manager, "command");
    assert.equal(agent.beacons_file, join(ROOT, "beacons.yaml"));
    assert.ok(!existsSync(join(ROOT, "examples", "beacons.yaml")), "one beacons.yaml, at the top level: no second copy to drift");
    assert.deepEqual(agent.services["demo-web"]?.start.slice(0, 2), ["node", "examples/demo-web.mjs"]);
  });

  void it("beacons.yaml (top level) compiles with no errors: service (2 s), diskusage, load, inotify", () => {
    const file = join(ROOT, "beacons.yaml");
    const compiled = compileBeacons(parseYaml(readFileSync(file, "utf8"), file));
    assert.deepEqual(compiled.errors, []);
    assert.deepEqual(
      compiled.beacons.map((b) => [b.type, b.intervalMs]),
      [
        ["service", 2000],
        ["diskusage", 60000],
        ["load", 30000],
        ["inotify", 10000],
      ],
    );
  });

});
