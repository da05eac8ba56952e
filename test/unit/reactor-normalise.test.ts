import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { normaliseSls, orderChunks } from "../../src/reactor/index.js";

const F = "reactors/x.sls";
const one = (value: unknown) => {
  const r = normaliseSls(value, F);
  assert.deepEqual(r.errors, []);
  assert.equal(r.chunks.length, 1);
  return r.chunks[0]!.reaction;
};

void describe("normaliseSls: old and new schema give the same Reaction", () => {
  void it("local: arg/kwarg vs args", () => {
    const old = one({ restart: { "local.service.restart": [{ tgt: "web1" }, { arg: ["nginx"] }, { kwarg: { no_block: true } }] } });
    assert.deepEqual(old, { id: "restart", file: F, client: "local", fun: "service.restart", tgt: "web1", tgt_type: "glob", arg: ["nginx"], kwarg: { no_block: true }, extra: {} });
    const neu = one({ restart: { "local.service.restart": [{ tgt: "web1" }, { args: [{ name: "nginx" }] }] } });
    assert.deepEqual(neu, { ...old, arg: [], kwarg: { name: "nginx" } });
  });

  void it("runner: keyword arguments under the function vs args", () => {
    const old = one({ deploy: { "runner.state.orchestrate": [{ mods: "orch.deploy" }, { pillar: { t: "web1" } }] } });
    const neu = one({ deploy: { "runner.state.orchestrate": [{ args: [{ mods: "orch.deploy" }, { pillar: { t: "web1" } }] }] } });
    assert.deepEqual(old, neu);
    assert.deepEqual(neu, { id: "deploy", file: F, client: "runner", fun: "state.orchestrate", arg: [], kwarg: { mods: "orch.deploy", pillar: { t: "web1" } }, extra: {} });
  });

  void it("runner/wheel: keys under the function count unless both arg and kwarg are given (Salt's ReactWrap.run)", () => {
    // issue 14: `mods` was dropped when `kwarg` was also given
    const r = normaliseSls({ deploy: { "runner.state.orchestrate": [{ mods: "orch.deploy" }, { kwarg: { pillar: { t: "web1" } } }] } }, F);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.chunks[0]!.reaction.kwarg, { pillar: { t: "web1" }, mods: "orch.deploy" });
    const w = one({ accept: { "wheel.key.accept": [{ arg: [] }, { match: "web1" }] } });
    assert.deepEqual([w.arg, w.kwarg], [[], { match: "web1" }]);
    const both = normaliseSls({ a: { "runner.event.send": [{ arg: ["t/x"] }, { kwarg: { data: {} } }, { tag: "t/y" }] } }, F);
    assert.deepEqual([both.chunks[0]!.reaction.arg, both.chunks[0]!.reaction.kwarg], [["t/x"], { data: {} }]);
    assert.deepEqual(both.warnings.map((p) => p.message), ["a.runner.event.send ignores 'tag' because both 'arg' and 'kwarg' are given"]);
    const clash = normaliseSls({ a: { "runner.state.orchestrate": [{ mods: "x" }, { kwarg: { mods: "y" } }] } }, F);
    assert.deepEqual(clash.chunks[0]!.reaction.kwarg, { mods: "y" });
    assert.deepEqual(clash.warnings.map((p) => p.message), ["a.runner.state.orchestrate ignores 'mods' under the function because 'kwarg' gives it"]);
  });

  void it("wheel: match under the function vs args; Salt's internal keys are left out", () => {
    const old = one({ accept: { "wheel.key.accept": [{ match: "web1" }, { order: 3 }, { name: "n" }] } });
    const neu = one({ accept: { "wheel.key.accept": [{ args: [{ match: "web1" }] }, { order: 3 }] } });
    assert.deepEqual(old.kwarg, { match: "web1" });
    assert.deepEqual(neu.kwarg, { match: "web1" });
    assert.equal(old.order, 3);
  });

  void it("cmd is an alias of local; expr_form is the old name of tgt_type", () => {
    const r = one({ a: { "cmd.state.apply": [{ tgt: "G@os:Debian" }, { expr_form: "compound" }, { timeout: 30 }] } });
    assert.equal(r.client, "local");
    assert.equal(r.tgt_type, "compound");
    assert.deepEqual(r.extra, { timeout: 30 });
  });

  void it("caller: legacy args list is positional", () => {
    const r = one({ c: { "caller.file.touch": [{ args: ["/tmp/x"] }] } });
    assert.deepEqual([r.arg, r.kwarg, r.tgt], [["/tmp/x"], {}, undefined]);
    const k = one({ c: { "caller.file.touch": [{ args: [{ name: "/tmp/x" }] }] } });
    assert.deepEqual([k.arg, k.kwarg], [[], { name: "/tmp/x" }]);
  });

  void it("args wins over arg/kwarg, with a warning", () => {
    const r = normaliseSls({ a: { "local.test.echo": [{ tgt: "*" }, { arg: ["x"] }, { args: [{ text: "y" }] }] } }, F);
    assert.deepEqual(r.chunks[0]!.reaction.kwarg, { text: "y" });
    assert.deepEqual(r.chunks[0]!.reaction.arg, []);
    assert.deepEqual(r.warnings, [{ file: F, line: null, message: "a.local.test.echo ignores 'arg' because 'args' is given" }]);
  });

  void it("empty render means no reaction", () => {
    assert.deepEqual(normaliseSls(null, F), { chunks: [], warnings: [], errors: [] });
  });
});

void describe("normaliseSls errors name file, id and field", () => {
  const errs = (value: unknown) => normaliseSls(value, F).errors.map((e) => e.message);
  void it("unknown client prefix", () => {
    assert.deepEqual(errs({ a: { "remote.test.ping": [] } }), ['a uses the unknown client "remote" in "remote.test.ping" (expected local, cmd, runner, wheel or caller)']);
  });
  void it("missing function", () => {
    assert.deepEqual(errs({ a: { local: [{ tgt: "*" }] } }), ["a.local names no function (expected local.<module>.<function>)"]);
  });
  void it("wrong argument types", () => {
    assert.deepEqual(errs({ a: { "local.test.ping": [{ tgt: { x: 1 } }, { arg: "x" }] } }), [
      "a.local.test.ping.arg must be a list",
      "a.local.test.ping.tgt must be a string or a list of strings",
    ]);
    assert.deepEqual(errs({ a: { "runner.x.y": [{ args: "nope" }] } }), ["a.runner.x.y.args must be a list of one-key maps (`- name: value`)"]);
    assert.deepEqual(errs({ a: { "local.test.ping": [{ tgt: "*" }, { tgt_type: "nodegroup" }] } }), [
      'a.local.test.ping.tgt_type must be one of glob, pcre, list, grain, compound, got "nodegroup"',
    ]);
  });
  void it("a local reaction needs tgt", () => {
    assert.deepEqual(errs({ a: { "local.test.ping": [] } }), ["a.local.test.ping.tgt is required for local reactions"]);
  });
  void it("not a map", () => {
    assert.deepEqual(errs(["x"]), ["must render to a map of reaction ids, got a list"]);
    assert.deepEqual(errs({ a: "x" }), ["a must be a map of `client.function` to its arguments, got a string"]);
  });
});

void describe("orderChunks follows Salt's order_chunks", () => {
  const chunks = (value: unknown) => normaliseSls(value, F).chunks;
  void it("sorts by type, id and function (type as written) when no order is given", () => {
    const c = chunks({
      b: { "local.test.ping": [{ tgt: "*" }] },
      a: { "runner.test.arg": [] },
      c: { "cmd.test.ping": [{ tgt: "*" }] },
      a2: { "local.test.ping": [{ tgt: "*" }] },
    });
    assert.deepEqual(orderChunks(c).map((x) => x.reaction.id), ["c", "a2", "b", "a"]);
  });
  void it("order: first, numbers, default, last and negatives", () => {
    const c = chunks({
      plain: { "local.test.ping": [{ tgt: "*" }] },
      last: { "local.test.ping": [{ tgt: "*" }, { order: "last" }] },
      first: { "local.test.ping": [{ tgt: "*" }, { order: "first" }] },
      two: { "local.test.ping": [{ tgt: "*" }, { order: 2 }] },
      one: { "local.test.ping": [{ tgt: "*" }, { order: 1 }] },
      neg: { "local.test.ping": [{ tgt: "*" }, { order: -1 }] },
    });
    assert.deepEqual(orderChunks(c).map((x) => x.reaction.id), ["first", "one", "two", "plain", "neg", "last"]);
  });
});
