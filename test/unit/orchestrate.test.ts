import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigErrors, RequisiteCycleError, RequisiteError } from "../../src/core/errors.js";
import { batchSize, formatOrchestration, runOrchestration, slsName, type OrchestrationResult } from "../../src/orchestrate/index.js";
import { FakePorts } from "../fixtures/orch/fake-ports.js";

const DEPLOY = fileURLToPath(new URL("../fixtures/orch/deploy.sls", import.meta.url));
const PILLAR = { lb: "lb1", backend: "app", version: "1.2.3", app_hosts: ["web1", "web2", "web3"] };
const MINIONS = ["lb1", "web1", "web2", "web3"];

const results = (r: OrchestrationResult) => r.data["reactor_master"]!;
const step = (r: OrchestrationResult, state: string, id: string, name: string, fun: string) => results(r)[`${state}_|-${id}_|-${name}_|-${fun}`];
const run = (source: string, ports: FakePorts, extra: { dryRun?: boolean; pillar?: Record<string, unknown> } = {}) =>
  runOrchestration({ file: "orch/t.sls", source, ...extra }, ports);

describe("orchestrate: rolling deploy fixture", () => {
  it("takes each host out of the pool, deploys, checks and puts it back, one host at a time", async () => {
    const ports = new FakePorts(MINIONS);
    const r = await runOrchestration({ file: DEPLOY, pillar: PILLAR }, ports);
    assert.equal(r.retcode, 0);
    const seq = ports.calls.map((c) => `${c.fun}@${c.targets.join(",")}:${String(c.arg[0])}`);
    const per = (h: string) => [
      `haproxy.disable_server@lb1:${h}`,
      `cmd.run@${h}:/usr/local/bin/deploy --version 1.2.3`,
      `http.query@${h}:http://127.0.0.1:8080/health`,
      `haproxy.enable_server@lb1:${h}`,
    ];
    assert.deepEqual(seq, [...per("web1"), ...per("web2"), ...per("web3")]);
    assert.equal(ports.calls[1]?.timeoutMs, 120_000);
    const d = step(r, "salt", "deploy_web1", "cmd.run", "function");
    assert.equal(d?.result, true);
    assert.equal(d?.comment, "Function ran successfully. Function cmd.run ran on web1.");
    assert.deepEqual(d?.changes, { ret: { web1: "cmd.run on web1" } });
    assert.equal(d?.__id__, "deploy_web1");
    assert.equal(d?.__sls__, "deploy");
  });

  it("a failed check keeps the host out of the pool and stops the run", async () => {
    const ports = new FakePorts(MINIONS, (m, c) => (c.fun === "http.query" && m === "web2" ? { ret: { status: 503 }, retcode: 1 } : { ret: true }));
    const r = await runOrchestration({ file: DEPLOY, pillar: PILLAR }, ports);
    assert.equal(r.retcode, 1);
    assert.deepEqual(
      ports.calls.map((c) => `${c.fun}@${c.targets.join(",")}`).slice(4),
      ["haproxy.disable_server@lb1", "cmd.run@web2", "http.query@web2"],
    );
    assert.equal(step(r, "salt", "check_web2", "http.query", "function")?.comment, "Running function http.query failed on minions: web2 Function http.query ran on web2.");
    assert.deepEqual(r.not_run, [
      "salt_|-enable_web2_|-haproxy.enable_server_|-function",
      "salt_|-disable_web3_|-haproxy.disable_server_|-function",
      "salt_|-deploy_web3_|-cmd.run_|-function",
      "salt_|-check_web3_|-http.query_|-function",
      "salt_|-enable_web3_|-haproxy.enable_server_|-function",
    ]);
  });

  it("dry run shows the order and resolved targets and runs nothing", async () => {
    const ports = new FakePorts(MINIONS);
    const r = await runOrchestration({ file: DEPLOY, pillar: { ...PILLAR, app_hosts: ["web1"] }, dryRun: true }, ports);
    assert.equal(ports.calls.length, 0);
    assert.equal(r.retcode, 0);
    const comments = Object.values(results(r)).map((x) => [x.__run_num__, x.result, x.comment]);
    assert.deepEqual(comments, [
      [0, null, "Function haproxy.disable_server would be executed on targets lb1"],
      [1, null, "Function cmd.run would be executed on targets web1"],
      [2, null, "Function http.query would be executed on targets web1"],
      [3, null, "Function haproxy.enable_server would be executed on targets lb1"],
    ]);
    const text = formatOrchestration(r);
    assert.match(text, /Would run: 4/);
    assert.match(text, /          ID: disable_web1\n    Function: salt.function\n        Name: haproxy.disable_server\n      Result: None/);
  });
});

describe("orchestrate: salt.function", () => {
  it("batch: 1 runs one host at a time and stops at the first failed batch", async () => {
    const ports = new FakePorts(MINIONS, (m) => (m === "web2" ? { ret: "error", retcode: 2 } : { ret: "ok" }));
    const r = await run("up:\n  salt.function:\n    - name: cmd.run\n    - tgt: 'web*'\n    - arg: [deploy]\n    - batch: 1\n", ports);
    assert.deepEqual(ports.calls.map((c) => c.targets), [["web1"], ["web2"]]);
    const s = step(r, "salt", "up", "cmd.run", "function");
    assert.equal(s?.result, false);
    assert.equal(s?.comment, "Running function cmd.run failed on minions: web2 Function cmd.run ran on web1, web2. Stopped after a failed batch; not run on web3.");
    assert.equal(r.retcode, 1);
  });

  it("batch_fail_ok: True goes on after a failed batch", async () => {
    const ports = new FakePorts(MINIONS, (m) => (m === "web2" ? { ret: "error", retcode: 2 } : { ret: "ok" }));
    await run("up:\n  salt.function:\n    - name: cmd.run\n    - tgt: 'web*'\n    - batch: 1\n    - batch_fail_ok: True\n", ports);
    assert.deepEqual(ports.calls.map((c) => c.targets), [["web1"], ["web2"], ["web3"]]);
  });

  it("batch: 50% splits the targets in halves (Salt's get_bnum)", async () => {
    const ports = new FakePorts(["a1", "a2", "a3", "a4"]);
    await run("up:\n  salt.function:\n    - name: test.ping\n    - tgt: 'a*'\n    - batch: 50%\n", ports);
    assert.deepEqual(ports.calls.map((c) => c.targets), [["a1", "a2"], ["a3", "a4"]]);
    assert.equal(batchSize(3, { percent: 50 }), 1);
    assert.equal(batchSize(1, { percent: 10 }), 1);
  });

  it("an agent that never answers fails the step, named, without hanging", async () => {
    const ports = new FakePorts(MINIONS, (m) => (m === "web3" ? "silent" : { ret: true }));
    const r = await run("up:\n  salt.function:\n    - name: test.ping\n    - tgt: 'web*'\n    - timeout: 5\n", ports);
    const s = step(r, "salt", "up", "test.ping", "function");
    assert.equal(s?.result, false);
    assert.equal(s?.comment, "Running function test.ping failed on minions: web3 Function test.ping ran on web1, web2, web3.");
    assert.deepEqual(s?.changes, { ret: { web1: true, web2: true, web3: "Minion did not return. [No response]" } });
    assert.equal(ports.calls[0]?.timeoutMs, 5000);
  });

  it("a listed target that does not exist fails with expect_minions, and is ignored without it (Salt)", async () => {
    const src = (expect: string) => `up:\n  salt.function:\n    - name: test.ping\n    - tgt: [web1, web9]\n${expect}`;
    const strict = await run(src("    - expect_minions: True\n"), new FakePorts(MINIONS));
    const s = step(strict, "salt", "up", "test.ping", "function");
    assert.equal(s?.result, false);
    assert.equal(s?.comment, "Running function test.ping failed on minions: web9 Function test.ping ran on web1, web9.");
    const lax = await run(src(""), new FakePorts(MINIONS));
    assert.equal(step(lax, "salt", "up", "test.ping", "function")?.result, true);
  });

  it("no matching target: No minions responded", async () => {
    const r = await run("up:\n  salt.function:\n    - name: test.ping\n    - tgt: 'db*'\n", new FakePorts(MINIONS));
    assert.equal(step(r, "salt", "up", "test.ping", "function")?.comment, "No minions responded");
  });

  it("fail_minions tolerates named agents", async () => {
    const ports = new FakePorts(MINIONS, (m) => (m === "web2" ? { ret: false } : { ret: true }));
    const r = await run("up:\n  salt.function:\n    - name: test.ping\n    - tgt: 'web*'\n    - fail_minions: web2\n", ports);
    assert.equal(step(r, "salt", "up", "test.ping", "function")?.result, true);
  });
});

describe("orchestrate: other steps", () => {
  it("wait_for_event sees each id, or times out naming the missing ones", async () => {
    const src = "w:\n  salt.wait_for_event:\n    - name: salt/minion/*/start\n    - id_list: [web1, web2]\n    - timeout: 30\n";
    const ports = new FakePorts(MINIONS);
    ports.bus.push({ tag: "salt/minion/web1/start", data: { id: "web1" } }, { tag: "other", data: { id: "web2" } });
    const r = await run(src, ports);
    const s = step(r, "salt", "w", "salt/minion/*/start", "wait_for_event");
    assert.equal(s?.result, false);
    assert.equal(s?.comment, "Timeout value reached. Not seen: web2.");
    assert.deepEqual(s?.changes, { minions_seen: ["web1"] });
    ports.bus.push({ tag: "salt/minion/web2/start", data: { data: { id: "web2" } } });
    const ok = await run(src, ports);
    assert.equal(step(ok, "salt", "w", "salt/minion/*/start", "wait_for_event")?.result, true);
  });

  it("runner and wheel steps report Salt's comments", async () => {
    const src = "k:\n  salt.wheel:\n    - name: key.accept\n    - match: web1\nr:\n  salt.runner:\n    - name: error.raise\n";
    const r = await run(src, new FakePorts(MINIONS));
    assert.equal(step(r, "salt", "k", "key.accept", "wheel")?.comment, "Wheel function 'key.accept' executed.");
    assert.deepEqual(step(r, "salt", "k", "key.accept", "wheel")?.changes, { return: { fun: "key.accept", kwarg: { match: "web1" } } });
    assert.equal(step(r, "salt", "r", "error.raise", "runner")?.comment, "Runner function 'error.raise' failed.");
  });

  it("test states and an onfail handler", async () => {
    const src = "a:\n  test.fail_without_changes\nh:\n  test.succeed_with_changes:\n    - onfail:\n      - test: a\nn:\n  test.nop\n";
    const r = await run(src, new FakePorts(MINIONS));
    assert.equal(step(r, "test", "a", "a", "fail_without_changes")?.comment, "Failure!");
    assert.deepEqual(step(r, "test", "h", "h", "succeed_with_changes")?.changes, { testing: { old: "Unchanged", new: "Something pretended to change" } });
    assert.equal(step(r, "test", "n", "n", "nop")?.comment, "Success!");
  });

  it("emits salt/run/<jid>/new, args and ret, and records the run", async () => {
    const ports = new FakePorts(MINIONS);
    const r = await runOrchestration({ file: "orch/t.sls", source: "n:\n  test.nop\n", pillar: { x: 1 }, user: "cli" }, ports);
    assert.deepEqual(ports.events.map((e) => e.tag), [`salt/run/${r.jid}/new`, `salt/run/${r.jid}/args`, `salt/run/${r.jid}/ret`]);
    assert.deepEqual(ports.events[0]?.data, { fun: "runner.state.orchestrate", fun_args: ["orch.t", { pillar: { x: 1 } }], jid: r.jid, user: "cli" });
    assert.equal(ports.events[2]?.data["success"], true);
    const saved = await ports.runs.get(r.jid);
    assert.equal(saved?.retcode, 0);
    assert.equal(saved?.sls, "orch.t");
  });
});

describe("orchestrate: errors before anything runs", () => {
  it("validation errors name the file, step and field", async () => {
    const src = "up:\n  salt.function:\n    - name: cmd.run\n    - tgt_type: weird\n    - timout: 5\n";
    await assert.rejects(run(src, new FakePorts(MINIONS)), (err: unknown) => {
      assert.ok(err instanceof ConfigErrors);
      assert.deepEqual(
        err.errors.map((e) => e.message),
        [
          "orch/t.sls: up.salt.function.timout is not a known field (did you mean timeout?)",
          "orch/t.sls: up.salt.function.tgt is required: a target expression or a list of ids",
          "orch/t.sls: up.salt.function.tgt_type must be one of glob, pcre, list, grain, compound, got \"weird\"",
        ],
      );
      return true;
    });
  });

  it("a missing reference and a cycle are errors, and nothing is emitted", async () => {
    const ports = new FakePorts(MINIONS);
    await assert.rejects(run("a:\n  test.nop:\n    - require:\n      - salt: b\n", ports), RequisiteError);
    await assert.rejects(run("a:\n  test.nop:\n    - require: [b]\nb:\n  test.nop:\n    - require: [a]\n", ports), RequisiteCycleError);
    assert.equal(ports.events.length, 0);
  });

  it("an abandoned run (the service stops) ends at once: the waiting step fails, the next one does not run", async () => {
    class WaitingPorts extends FakePorts {
      override runFunction(call: Parameters<FakePorts["runFunction"]>[0]) {
        this.calls.push(call);
        return new Promise<Awaited<ReturnType<FakePorts["runFunction"]>>>((resolve) => call.signal?.addEventListener("abort", () => resolve({}), { once: true }));
      }
    }
    const ports = new WaitingPorts(MINIONS);
    const ac = new AbortController();
    const source = "slow:\n  salt.function:\n    - name: test.sleep\n    - tgt: [ web1 ]\n    - arg: [ 600 ]\nnext:\n  salt.function:\n    - name: test.ping\n    - tgt: [ web1 ]\n";
    const run = runOrchestration({ file: "orch/t.sls", source, signal: ac.signal }, ports);
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const r = await run;
    assert.equal(r.retcode, 1);
    const results = Object.entries(r.data["reactor_master"]!);
    assert.deepEqual(results.map(([tag, s]) => [tag.split("_|-")[1], s.result]), [["slow", false]]);
    assert.deepEqual(r.not_run.map((t) => t.split("_|-")[1]), ["next"]);
    assert.equal(ports.calls.length, 1);
  });

  it("names SLS files as Salt does", () => {
    assert.equal(slsName("orch/deploy.sls"), "orch.deploy");
    assert.equal(slsName("./orch/web/init.sls"), "orch.web");
  });
});
