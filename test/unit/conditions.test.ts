import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileCondition, describeFailure } from "../../src/core/conditions/index.js";
import { ConditionError } from "../../src/core/errors.js";

const ctx = (data: Record<string, unknown>, tag = "salt/beacon/web1/service/nginx") => ({ tag, data });

void describe("compileCondition", () => {
  void it("evaluates JSON-logic over tag and data", () => {
    const c = compileCondition({ "==": [{ var: "data.running" }, false] });
    assert.equal(c.test(ctx({ running: false })), true);
    assert.equal(c.test(ctx({ running: true })), false);
    const t = compileCondition({ in: ["web", { var: "tag" }] });
    assert.equal(t.test(ctx({})), true);
  });

  void it("reads Salt's service beacon shape: data[data.service_name].running", () => {
    const c = compileCondition({ "==": [{ var: [{ cat: ["data.", { var: "data.service_name" }, ".running"] }] }, false] });
    assert.equal(c.test(ctx({ service_name: "nginx", nginx: { running: false } })), true);
    assert.equal(c.test(ctx({ service_name: "nginx", nginx: { running: true } })), false);
  });

  void it("rejects an unknown operator at compile time, naming where", () => {
    assert.throws(
      () => compileCondition({ and: [{ "==": [1, 1] }, { frobnicate: [1] }] }),
      (err: unknown) => err instanceof ConditionError && err.message === 'and[1]: unknown operator "frobnicate"' && err.code === "E_CONDITION",
    );
  });

  void it("rejects objects that are not one operator", () => {
    assert.throws(
      () => compileCondition({ "==": 1, "!=": 2 }),
      (err: unknown) => err instanceof ConditionError && err.message === "an object in a condition must have exactly one key, the operator; found 2",
    );
  });

  void it("rejects literal variable paths through __proto__, constructor, prototype", () => {
    for (const [path, key] of [["__proto__", "__proto__"], ["data.constructor", "constructor"], ["tag.constructor.prototype", "constructor"]]) {
      assert.throws(
        () => compileCondition({ var: path }),
        (err: unknown) => err instanceof ConditionError && err.message === `var: variable ${JSON.stringify(path)} uses the forbidden key ${JSON.stringify(key)}`,
      );
    }
  });

  void it("computed variable paths cannot reach inherited properties", () => {
    const c = compileCondition({ "!!": { var: { cat: [{ var: "data.k" }] } } });
    for (const k of ["constructor", "__proto__", "toString", "data.constructor", "tag.constructor", "data.hasOwnProperty"]) {
      assert.equal(c.test(ctx({ k })), false, k);
    }
    const v = compileCondition({ "==": [{ var: [{ var: "data.k" }, "none"] }, "none"] });
    assert.equal(v.test(ctx({ k: "tag.constructor.name" })), true);
    // an own property is still read
    assert.equal(c.test(ctx({ k: "data.k" })), true);
  });

  void it("data keys named __proto__ do nothing", () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const c = compileCondition({ "==": [{ var: "data.polluted" }, true] });
    assert.equal(c.test(ctx(data)), false);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
    assert.equal(compileCondition({ "==": [{ var: "data.a" }, 1] }).test(ctx(data)), true);
  });

  void it("counts an evaluation error as false and explains it", () => {
    // An own `toString` that is not a function makes String() throw inside json-logic's cat.
    const c = compileCondition({ "==": [{ cat: [{ var: "data.o" }] }, "x"] });
    const data = { o: { toString: "x" } };
    assert.equal(c.test(ctx(data)), false);
    const e = c.explain(ctx(data));
    assert.equal(e.result, false);
    assert.equal(e.error, "Cannot convert object to primitive value");
  });

  void it("log does not print and returns its argument", () => {
    assert.equal(compileCondition({ log: true }).test(ctx({})), true);
  });
});

void describe("explain", () => {
  void it("is empty when the condition holds", () => {
    const c = compileCondition({ "==": [1, 1] });
    assert.deepEqual(c.explain(ctx({})), { result: true, failed: [] });
  });

  void it("names the first false child of and, with its argument values", () => {
    const c = compileCondition({ and: [{ "==": [{ var: "data.act" }, "pend"] }, { "==": [{ var: "data.running" }, false] }] });
    const e = c.explain(ctx({ act: "pend", running: true }));
    assert.equal(e.result, false);
    assert.deepEqual(e.failed, [{ path: "and[1]", rule: { "==": [{ var: "data.running" }, false] }, values: [true, false] }]);
    assert.equal(describeFailure(e.failed[0]!), 'and[1]: {"==":[{"var":"data.running"},false]} is false (values: true, false)');
  });

  void it("names every false child of or, nested", () => {
    const c = compileCondition({ or: [{ "==": [{ var: "data.a" }, 1] }, { and: [true, { ">": [{ var: "data.b" }, 2] }] }] });
    const e = c.explain(ctx({ a: 2, b: 1 }));
    assert.deepEqual(
      e.failed.map((f) => f.path),
      ["or[0]", "or[1].and[1]"],
    );
    assert.deepEqual(e.failed[1]!.values, [1, 2]);
  });

  void it("reports the top-level rule when it is a single comparison", () => {
    const c = compileCondition({ "!": { var: "data.ok" } });
    assert.deepEqual(c.explain(ctx({ ok: true })).failed, [{ path: "", rule: { "!": { var: "data.ok" } }, values: [true] }]);
  });
});
