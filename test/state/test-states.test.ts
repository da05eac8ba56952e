import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { builtinStateModules, runChunks, type LowChunk, type StateResult } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const CHANGED = { testing: { old: "Unchanged", new: "Something pretended to change" } };

async function one(fun: string, extra: Record<string, unknown> = {}, test = false): Promise<StateResult> {
  const { ctx } = makeStateContext();
  const low: LowChunk = {
    state: "test",
    fun,
    name: "x",
    __id__: "x",
    __sls__: "t",
    __env__: "base",
    ...extra,
  };
  const res = await runChunks([low], { modules: builtinStateModules(), ctx, test });
  return Object.values(res)[0]!;
}

const brief = (r: StateResult) => ({ result: r.result, changes: r.changes, comment: r.comment });

describe("test state module", () => {
  it("nop and the succeed/fail functions return Salt's results, in both modes", async () => {
    assert.deepEqual(brief(await one("nop", { comment: "ignored" })), {
      result: true,
      changes: {},
      comment: "Success!",
    });
    assert.deepEqual(brief(await one("succeed_without_changes", { comment: "c" })), {
      result: true,
      changes: {},
      comment: "c",
    });
    assert.deepEqual(brief(await one("succeed_with_changes")), {
      result: true,
      changes: CHANGED,
      comment: "Success!",
    });
    assert.deepEqual(brief(await one("fail_without_changes")), {
      result: false,
      changes: {},
      comment: "Failure!",
    });
    assert.deepEqual(brief(await one("fail_with_changes")), {
      result: false,
      changes: CHANGED,
      comment: "Failure!",
    });
    assert.deepEqual(brief(await one("succeed_without_changes", {}, true)), {
      result: true,
      changes: {},
      comment: "Success!",
    });
    assert.deepEqual(brief(await one("succeed_with_changes", {}, true)), {
      result: null,
      changes: CHANGED,
      comment: "If we weren't testing, this would be successful with changes",
    });
    assert.deepEqual(brief(await one("fail_without_changes", {}, true)), {
      result: false,
      changes: {},
      comment: "If we weren't testing, this would be a failure!",
    });
    assert.deepEqual(brief(await one("fail_with_changes", {}, true)), {
      result: null,
      changes: CHANGED,
      comment: "If we weren't testing, this would be failed with changes",
    });
  });

  it("configurable_test_state: changes, result, comment and warnings as Salt", async () => {
    assert.deepEqual(brief(await one("configurable_test_state")), {
      result: true,
      changes: CHANGED,
      comment: "",
    });
    const r = await one("configurable_test_state", {
      changes: false,
      result: false,
      comment: "told",
      warnings: ["w1", "w2"],
    });
    assert.deepEqual(brief(r), { result: false, changes: {}, comment: "told" });
    assert.deepEqual(r.warnings, ["w1", "w2"]);
    assert.deepEqual((await one("configurable_test_state", { warnings: "w" })).warnings, ["w"]);
    assert.deepEqual(brief(await one("configurable_test_state", {}, true)), {
      result: null,
      changes: CHANGED,
      comment: "This is a test",
    });
    assert.deepEqual(brief(await one("configurable_test_state", { changes: false }, true)), {
      result: true,
      changes: {},
      comment: "This is a test",
    });
    const random = await one("configurable_test_state", { changes: "Random", result: "random" });
    assert.ok(typeof random.result === "boolean");
  });

  it("bad arguments fail the state with the argument named", async () => {
    const r = await one("configurable_test_state", { result: "maybe" });
    assert.equal(r.result, false);
    assert.equal(
      r.comment,
      "An exception occurred in this state: test.configurable_test_state: argument 'result' must be either True, False, or 'Random'",
    );
    const w = await one("configurable_test_state", { warnings: 3 });
    assert.match(w.comment, /argument 'warnings' must be a string or a list of strings$/);
    const n = await one("show_notification");
    assert.match(n.comment, /test.show_notification: argument 'text' is required/);
  });

  it("show_notification returns its text", async () => {
    assert.deepEqual(brief(await one("show_notification", { text: "hello" })), {
      result: true,
      changes: {},
      comment: "hello",
    });
  });

  it("mod_watch takes result/comment/changes overrides", async () => {
    const { ctx } = makeStateContext();
    const chunks: LowChunk[] = [
      { state: "test", fun: "succeed_with_changes", name: "a", __id__: "a", __sls__: "t", __env__: "base" },
      {
        state: "test",
        fun: "succeed_without_changes",
        name: "w",
        __id__: "w",
        __sls__: "t",
        __env__: "base",
        comment: "custom",
        result: false,
        watch: [{ test: "a" }],
      },
    ];
    const res = await runChunks(chunks, { modules: builtinStateModules(), ctx });
    assert.deepEqual(brief(res["test_|-w_|-w_|-succeed_without_changes"]!), {
      result: false,
      changes: { "Requisites with changes": ["test: a"] },
      comment: "custom",
    });
  });
});
