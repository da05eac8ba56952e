import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileServiceConfig, loadServiceConfig } from "../../src/config/index.js";
import { dryRun } from "../../src/reactor/index.js";

const DIR = "test/fixtures/reactor";
const config = await loadServiceConfig(`${DIR}/reactor.yaml`);
const inline = (map: string) => compileServiceConfig(`reactor:\n${map}`, `${DIR}/inline.yaml`);

void describe("dryRun on Salt's documented reactor examples", () => {
  void it("auto-accepts a pending key on salt/auth", () => {
    const r = dryRun(config, { tag: "salt/auth", data: { id: "web1", act: "pend", result: true } });
    assert.deepEqual(r, {
      tag: "salt/auth",
      matches: [{ glob: "salt/auth", sls: ["reactors/auth-pending.sls"] }],
      reactions: [{ id: "minion_add", file: "reactors/auth-pending.sls", client: "wheel", fun: "key.accept", tgt: null, tgt_type: null, arg: [], kwarg: { match: "web1" } }],
      errors: [],
    });
  });

  void it("renders nothing when the key is not pending", () => {
    const r = dryRun(config, { tag: "salt/auth", data: { id: "web1", act: "accept" } });
    assert.deepEqual([r.matches.length, r.reactions, r.errors], [1, [], []]);
  });

  void it("restarts a stopped service from the service beacon", () => {
    const data = { id: "web1", service_name: "nginx", nginx: { running: false } };
    const r = dryRun(config, { tag: "salt/beacon/web1/service/nginx", data });
    assert.deepEqual(r.reactions, [
      { id: "restart_nginx", file: "reactors/restart-service.sls", client: "local", fun: "service.restart", tgt: "web1", tgt_type: "glob", arg: [], kwarg: { name: "nginx" } },
    ]);
    const running = dryRun(config, { tag: "salt/beacon/web1/service/nginx", data: { ...data, nginx: { running: true } } });
    assert.deepEqual(running.reactions, []);
  });

  void it("runs a highstate when a minion starts", () => {
    const r = dryRun(config, { tag: "salt/minion/db1/start", data: { id: "db1" } });
    assert.deepEqual(r.reactions.map((x) => [x.client, x.fun, x.tgt]), [["local", "state.apply", "db1"]]);
  });

  void it("orchestrates a deploy from a webhook, event data staying data", () => {
    const r = dryRun(config, { tag: "salt/netapi/hook/deploy", data: { post: { target: "web*\nevil: {x: 1}" } } });
    assert.deepEqual(r.reactions.map((x) => [x.client, x.fun, x.kwarg]), [
      ["runner", "state.orchestrate", { mods: "orch.deploy", pillar: { target: "web*\nevil: {x: 1}" } }],
    ]);
  });

  void it("explains why the other entries did not match", () => {
    const r = dryRun(config, { tag: "salt/minion/db1/start", data: { id: "db1" } }, { explain: true });
    assert.deepEqual(r.explain?.not_matched.map((n) => [n.glob, n.reason, n.detail]), [
      ["salt/auth", "glob", 'segment 2 "minion" does not match "auth"'],
      ["salt/beacon/*/service/*", "glob", 'segment 2 "minion" does not match "beacon"'],
      ["salt/netapi/hook/deploy", "glob", 'segment 2 "minion" does not match "netapi"'],
    ]);
  });
});

void describe("dryRun: files of one event", () => {
  void it("old and new schema give the same reaction", () => {
    const c = inline("  - 'salt/beacon/*/service/*': [reactors/old-schema.sls]\n");
    const r = dryRun(c, { tag: "salt/beacon/web1/service/nginx", data: { id: "web1", service_name: "nginx" } });
    assert.deepEqual(r.reactions, [
      { id: "restart_old", file: "reactors/old-schema.sls", client: "local", fun: "service.restart", tgt: "web1", tgt_type: "glob", arg: ["nginx"], kwarg: {} },
    ]);
  });

  void it("a duplicate id: the later file wins, with a warning", () => {
    const c = inline("  - 'x/*': [reactors/dup-a.sls]\n  - 'x/y': [reactors/dup-b.sls]\n");
    const r = dryRun(c, { tag: "x/y", data: {} }, { explain: true });
    assert.deepEqual(r.reactions.map((x) => [x.id, x.file, x.arg]), [["only_a", "reactors/dup-a.sls", []], ["same_id", "reactors/dup-b.sls", ["from-b"]]]);
    assert.deepEqual(r.explain?.warnings, [{ file: "reactors/dup-b.sls", line: null, message: "same_id replaces the reaction of the same id from reactors/dup-a.sls" }]);
  });

  void it("a render error drops that file's reactions only", () => {
    const c = inline("  - 'x/*': [reactors/broken.sls, reactors/dup-b.sls]\n");
    const r = dryRun(c, { tag: "x/y", data: {} });
    assert.deepEqual(r.reactions.map((x) => x.id), ["same_id"]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.file, "reactors/broken.sls");
    assert.equal(r.errors[0]!.line, 3);
  });

  void it("a filesystem glob expands to the matching files, sorted", () => {
    const c = inline("  - 'x/*': ['reactors/dup-*.sls']\n");
    assert.deepEqual(c.reactor[0]!.sls[0]!.files.map((f) => f.path), ["reactors/dup-a.sls", "reactors/dup-b.sls"]);
    const r = dryRun(c, { tag: "x/y", data: {} });
    assert.deepEqual(r.matches, [{ glob: "x/*", sls: ["reactors/dup-*.sls"] }]);
    assert.deepEqual(r.reactions.map((x) => x.file), ["reactors/dup-a.sls", "reactors/dup-b.sls"]);
  });
});
