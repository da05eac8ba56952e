/**
 * Salt's own requisite tests (tests/pytests/functional/modules/state/requisites/ of the Salt
 * repository), replayed on the runner with their expected run numbers, results and comments.
 * Salt's `cmd.run` of a command that succeeds is `test.succeed_with_changes` here (result True,
 * changes), of one that fails `test.fail_with_changes`; `cmd.wait` is `test.succeed_without_changes`
 * (nothing unless watched). References keep Salt's shape with the state `test`.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import {
  builtinStateModules,
  requisiteInErrors,
  runChunks,
  type LowChunk,
  type StateResult,
} from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const RUN = "succeed_with_changes";
const FAIL = "fail_with_changes";
const WAIT = "succeed_without_changes";

function low(id: string, fun: string, extra: Record<string, unknown> = {}): LowChunk {
  return { state: "test", fun, name: id, __id__: id, __sls__: "requisite", __env__: "base", ...extra };
}

async function run(chunks: LowChunk[]): Promise<Record<string, StateResult>> {
  const { ctx } = makeStateContext();
  return runChunks(chunks, { modules: builtinStateModules(), ctx });
}

/** Salt's normalize_ret, keyed by id: run number, result, whether there were changes. */
function normalize(res: Record<string, StateResult>): Record<string, [number, boolean | null, boolean]> {
  return Object.fromEntries(
    Object.values(res).map((r) => [r.__id__, [r.__run_num__, r.result, Object.keys(r.changes).length > 0]]),
  );
}

const notFound = (kind: string, key: string, value: string) =>
  `The following requisites were not found:\n${" ".repeat(19)}${kind}:\n${" ".repeat(23)}${key}: ${value}\n`;

describe("Salt's prereq tests", () => {
  it("simple ordering and errors 1: prereq_in and prereq order B, C, A; unknown references fail", async () => {
    const res = await run([
      low("A", RUN, { prereq_in: [{ test: "C" }] }),
      low("B", RUN, { prereq: [{ test: "C" }] }),
      low("C", RUN),
      low("I", RUN, { prereq: [{ test: "Z" }] }),
      low("J", RUN, { prereq: [{ foobar: "A" }] }),
    ]);
    assert.deepEqual(normalize(res), {
      B: [0, true, true],
      C: [1, true, true],
      A: [2, true, true],
      I: [3, false, false],
      J: [4, false, false],
    });
    const byId = Object.fromEntries(Object.values(res).map((r) => [r.__id__, r.comment]));
    assert.equal(byId.I, notFound("prereq", "test", "Z"));
    assert.equal(byId.J, notFound("prereq", "foobar", "A"));
  });

  it("simple ordering and errors 3: bare ids", async () => {
    const res = await run([
      low("A", RUN, { prereq_in: ["C"] }),
      low("B", RUN, { prereq: ["C"] }),
      low("C", RUN),
      low("I", RUN, { prereq: ["Z"] }),
    ]);
    assert.deepEqual(normalize(res), {
      B: [0, true, true],
      C: [1, true, true],
      A: [2, true, true],
      I: [3, false, false],
    });
    assert.equal(Object.values(res).find((r) => r.__id__ === "I")!.comment, notFound("prereq", "id", "Z"));
  });

  it("simple ordering and errors 4: C with several prereqs runs first", async () => {
    const res = await run([
      low("A", RUN, { prereq_in: [{ test: "C" }] }),
      low("B", RUN),
      low("C", RUN, { prereq: [{ test: "B" }, { test: "D" }] }),
      low("D", RUN),
      low("E", RUN, { prereq_in: [{ test: "C" }] }),
    ]);
    assert.deepEqual(normalize(res), {
      C: [0, true, true],
      A: [1, true, true],
      B: [2, true, true],
      D: [3, true, true],
      E: [4, true, true],
    });
  });

  it("simple ordering and errors 5: one prereq that would change is enough", async () => {
    const res = await run([
      low("A", RUN, { prereq: [{ test: "B" }, { test: "C" }] }),
      low("B", RUN),
      low("C", WAIT),
    ]);
    assert.deepEqual(normalize(res), { A: [0, true, true], B: [1, true, true], C: [2, true, false] });
  });

  it("simple ordering and errors 6 (issue #8211): B, C, D, A", async () => {
    const res = await run([
      low("A", RUN, { prereq_in: [{ test: "C" }] }),
      low("B", RUN, { prereq: [{ test: "C" }] }),
      low("C", RUN),
      low("D", RUN, { prereq: [{ test: "A" }] }),
    ]);
    assert.deepEqual(normalize(res), {
      B: [0, true, true],
      C: [1, true, true],
      D: [2, true, true],
      A: [3, true, true],
    });
  });

  it("full sls prereq: A runs before the states of the SLS it names", async () => {
    const res = await run([
      low("B", RUN, { __sls__: "fullsls" }),
      low("C", RUN, { __sls__: "fullsls" }),
      low("A", RUN, { prereq: [{ sls: "fullsls" }] }),
    ]);
    assert.deepEqual(normalize(res), { A: [0, true, true], B: [1, true, true], C: [2, true, true] });
  });

  it("infinite recursion prereq: a prereq on a state with a missing requisite fails all three", async () => {
    const res = await run([
      low("A", "nop", { prereq: [{ test: "B" }] }),
      low("B", "nop", { require: [{ name: "non-existant" }] }),
      low("C", "nop", { require: [{ test: "B" }] }),
    ]);
    assert.deepEqual(
      Object.values(res).map((r) => r.result),
      [false, false, false],
    );
  });

  it("infinite recursion prereq 2: everything succeeds", async () => {
    const res = await run([
      low("A", "nop", { prereq: [{ test: "B" }] }),
      low("B", "nop", { require: [{ test: "D" }] }),
      low("C", "nop", { require: [{ test: "B" }] }),
      low("D", "nop"),
    ]);
    assert.equal(Object.keys(res).length, 4);
    assert.ok(Object.values(res).every((r) => r.result === true));
  });

  it("fail in prereq: the prereq'd state keeps its test result without changes; its onchanges do not run", async () => {
    const res = await run([
      low("State A", "configurable_test_state", { name: "fail", result: true, changes: true }),
      low("State B", "configurable_test_state", {
        changes: true,
        result: false,
        prereq: [{ test: "State A" }],
      }),
      low("State C", "nop", { onchanges: [{ test: "State A" }] }),
    ]);
    const a = res["test_|-State A_|-fail_|-configurable_test_state"]!;
    assert.equal(a.result, null);
    assert.deepEqual(a.changes, {});
    assert.equal(res["test_|-State B_|-State B_|-configurable_test_state"]!.result, false);
    const c = res["test_|-State C_|-State C_|-nop"]!;
    assert.deepEqual(
      [c.result, c.__state_ran__, c.comment],
      [true, false, "State was not run because none of the onchanges reqs changed"],
    );
  });
});

describe("Salt's watch tests", () => {
  it("watch_in: the watcher's mod_watch takes run number 2 (its own call took 1)", async () => {
    const res = await run([
      low("return_changes", RUN, { watch_in: [{ test: "watch_states" }] }),
      low("watch_states", WAIT),
    ]);
    const w = res["test_|-watch_states_|-watch_states_|-succeed_without_changes"]!;
    assert.equal(res["test_|-return_changes_|-return_changes_|-succeed_with_changes"]!.__run_num__, 0);
    assert.deepEqual([w.__run_num__, w.comment], [2, "Watch statement fired."]);
  });

  it("watch_in failure: One or more requisite failed: requisite.return_changes", async () => {
    const res = await run([
      low("return_changes", FAIL, { watch_in: [{ test: "watch_states" }] }),
      low("watch_states", WAIT),
    ]);
    assert.equal(
      res["test_|-watch_states_|-watch_states_|-succeed_without_changes"]!.comment,
      "One or more requisite failed: requisite.return_changes",
    );
  });

  it("watch_any: fires when one watched state changed, even if others failed", async () => {
    const res = await run([
      low("A", WAIT, { watch_any: [{ test: "B" }, { test: "C" }, { test: "D" }] }),
      low("B", RUN),
      low("C", FAIL),
      low("D", RUN),
      low("E", WAIT, { watch_any: [{ test: "F" }, { test: "G" }, { test: "H" }] }),
      low("F", RUN),
      low("G", FAIL),
      low("H", FAIL),
    ]);
    assert.deepEqual(normalize(res), {
      B: [0, true, true],
      C: [1, false, true],
      D: [2, true, true],
      A: [4, true, true],
      F: [5, true, true],
      G: [6, false, true],
      H: [7, false, true],
      E: [9, true, true],
    });
  });
});

describe("Salt's listen and use tests", () => {
  const listening = [
    low("successful_changing_state", RUN),
    low("non_changing_state", WAIT),
    low("test_listening_change_state", RUN, {
      name: 'echo "Listening State"',
      listen: [{ test: "successful_changing_state" }],
    }),
    low("test_listening_non_changing_state", RUN, {
      name: 'echo "Only run once"',
      listen: [{ test: "non_changing_state" }],
    }),
    low("test_listening_resolution_one", RUN, {
      name: "echo resolution",
      listen: [{ test: "successful_changing_state" }],
    }),
    low("test_listening_resolution_two", RUN, {
      name: "echo resolution",
      listen: [{ test: "successful_changing_state" }],
    }),
  ];

  it("listen: a listener of a changed state gets its mod_watch; of an unchanged one, none", async () => {
    const res = await run(listening);
    assert.ok(res['test_|-listener_test_listening_change_state_|-echo "Listening State"_|-mod_watch']);
    assert.ok(!res['test_|-listener_test_listening_non_changing_state_|-echo "Only run once"_|-mod_watch']);
    assert.ok(res["test_|-listener_test_listening_resolution_one_|-echo resolution_|-mod_watch"]);
    assert.ok(res["test_|-listener_test_listening_resolution_two_|-echo resolution_|-mod_watch"]);
  });

  it("listen without the state module (bare ids)", async () => {
    const bare = listening.map((c) =>
      c.listen ? { ...c, listen: [(c.listen as Record<string, string>[])[0]!.test] } : c,
    );
    const res = await run(bare);
    assert.ok(res['test_|-listener_test_listening_change_state_|-echo "Listening State"_|-mod_watch']);
    assert.ok(!res['test_|-listener_test_listening_non_changing_state_|-echo "Only run once"_|-mod_watch']);
  });

  it("listen_in resolves by ID: of two states named foo, the one that changed counts", async () => {
    const res = await run([
      low("test_listen_in_resolution", WAIT, { name: "echo resolution" }),
      low("successful_changing_state_name_foo", RUN, {
        name: "foo",
        listen_in: [{ test: "test_listen_in_resolution" }],
      }),
      low("successful_non_changing_state_name_foo", WAIT, {
        name: "foo",
        listen_in: [{ test: "test_listen_in_resolution" }],
      }),
      low("non_changing_state", WAIT, { listen_in: [{ test: "other" }] }),
      low("other", RUN),
    ]);
    assert.ok(res["test_|-listener_test_listen_in_resolution_|-echo resolution_|-mod_watch"]);
    assert.ok(!res["test_|-listener_other_|-other_|-mod_watch"]);
  });

  it("listen and listen_in reach every name of a `names` state", async () => {
    const service = (name: string, extra: Record<string, unknown> = {}) =>
      low("service", WAIT, { name, ...extra });
    const a = await run([
      low("test", RUN, { listen_in: [{ test: "service" }] }),
      service("nginx"),
      service("crond"),
    ]);
    assert.ok(
      a["test_|-listener_service_|-nginx_|-mod_watch"] && a["test_|-listener_service_|-crond_|-mod_watch"],
    );
    const listen = { listen: [{ test: "test" }] };
    const b = await run([low("test", RUN), service("nginx", listen), service("crond", listen)]);
    assert.ok(
      b["test_|-listener_service_|-nginx_|-mod_watch"] && b["test_|-listener_service_|-crond_|-mod_watch"],
    );
  });

  it("use and use_in copy onlyif: none of these states run", async () => {
    const res = await run([
      low("A", RUN, { name: 'echo "A"', onlyif: "false" }),
      low("C", RUN, { name: 'echo "C"', use: [{ test: "A" }] }),
      low("D", RUN, { name: 'echo "D"', onlyif: "false", use_in: [{ test: "E" }] }),
      low("E", RUN, { name: 'echo "E"' }),
    ]);
    assert.deepEqual(
      Object.values(res).map((r) => r.comment),
      Array(4).fill("onlyif condition is false"),
    );
  });

  it("onlyif without `fun` does not stop the state", async () => {
    const res = await run([low("onlyif test", RUN, { onlyif: [{}] })]);
    assert.deepEqual(
      Object.values(res).map((r) => [r.result, r.comment]),
      [[true, "Success!"]],
    );
  });
});

describe("Salt's require tests", () => {
  const graph = (ref: (id: string) => unknown) => [
    low("A", RUN, { require: [ref("C")] }),
    low("B", RUN, { require_in: [ref("A"), ref("C")] }),
    low("C", RUN),
    low("D", RUN, { require_in: [ref("B")] }),
    low("E", RUN, { require: [ref("B")], require_in: [ref("A")] }),
  ];
  const expected = {
    D: [0, true, true],
    B: [1, true, true],
    C: [2, true, true],
    E: [3, true, true],
    A: [4, true, true],
  };

  it("ordering and errors 1: the require/require_in graph runs D, B, C, E, A; unknown references fail", async () => {
    const res = await run([
      ...graph((id) => ({ test: id })),
      low("F", RUN, { require: [{ foobar: "A" }] }),
      low("G", RUN, { require: [{ test: "Z" }] }),
      low("H", RUN, { require: [{ test: "Z" }] }),
    ]);
    assert.deepEqual(normalize(res), {
      ...expected,
      F: [5, false, false],
      G: [6, false, false],
      H: [7, false, false],
    });
    const comments = Object.fromEntries(Object.values(res).map((r) => [r.__id__, r.comment]));
    assert.equal(comments.F, notFound("require", "foobar", "A"));
    assert.equal(comments.G, notFound("require", "test", "Z"));
  });

  it("the same graph with bare ids (no state module)", async () => {
    const res = await run([...graph((id) => id), low("G", RUN, { require: ["Z"] })]);
    assert.deepEqual(normalize(res), { ...expected, G: [5, false, false] });
    assert.equal(Object.values(res).find((r) => r.__id__ === "G")!.comment, notFound("require", "id", "Z"));
  });

  it("ordering and errors 2 and 3: a require_in to a missing ID, or to an ID of another state type, cannot extend", () => {
    const cannot = (id: string) =>
      `Cannot extend ID '${id}' in 'base:requisite'. It is not part of the high state.\n` +
      "This is likely due to a missing include statement or an incorrectly typed ID.\n" +
      `Ensure that a state with an ID of '${id}' is available\nin environment 'base' and to SLS 'requisite'`;
    assert.deepEqual(requisiteInErrors([low("A", RUN, { require_in: [{ foobar: "W" }] })]), [cannot("W")]);
    assert.deepEqual(requisiteInErrors([low("B", RUN, { require_in: [{ foobar: "A" }] }), low("A", RUN)]), [
      cannot("A"),
    ]);
    assert.deepEqual(requisiteInErrors([low("B", RUN, { require_in: [{ test: "A" }] }), low("A", RUN)]), []);
  });

  it("require_any: runs when one required state succeeded; fails when all failed", async () => {
    const res = await run([
      low("A", RUN, { require_any: [{ test: "B" }, { test: "C" }, { test: "D" }] }),
      low("B", RUN),
      low("C", FAIL),
      low("D", RUN),
    ]);
    assert.deepEqual(normalize(res), {
      B: [0, true, true],
      C: [1, false, true],
      D: [2, true, true],
      A: [3, true, true],
    });
    const fail = await run([
      low("E", FAIL),
      low("F", FAIL),
      low("D", RUN, { require_any: [{ test: "E" }, { test: "F" }] }),
    ]);
    assert.match(Object.values(fail).find((r) => r.__id__ === "D")!.comment, /^One or more requisite failed/);
  });

  it("issue 38683: require, order and failhard together", async () => {
    const res = await run([
      low("a", "show_notification", { text: "message", require: [{ test: "b" }], order: 1, failhard: true }),
      low("b", FAIL, { failhard: true }),
    ]);
    const b = res["test_|-b_|-b_|-fail_with_changes"]!;
    assert.deepEqual([b.result, b.comment], [false, "Failure!"]);
  });

  it("issue 59922: require_in honours the state type when a name equals another ID", async () => {
    const res = await run([
      low("X", WAIT, { name: "A" }),
      { ...low("A", RUN), state: "cmdlike" },
      low("B", RUN, { require_in: [{ test: "A" }] }),
    ]);
    assert.deepEqual(
      Object.values(res).map((r) => `${r.__id__}:${r.__run_num__}`),
      ["B:0", "X:1", "A:2"],
    );
  });
});

describe("Salt's onfail and mixed tests", () => {
  it("onfail_all: runs only when every named state failed", async () => {
    const res = await run([
      low("a", RUN),
      low("b", RUN),
      low("c", RUN),
      low("d", FAIL),
      low("e", FAIL),
      low("f", FAIL),
      low("reqs not met", RUN, { onfail_all: [{ test: "a" }, { test: "e" }] }),
      low("reqs also not met", RUN, { onfail_all: [{ test: "a" }, { test: "b" }, { test: "c" }] }),
      low("reqs met", RUN, { onfail_all: [{ test: "d" }, { test: "e" }, { test: "f" }] }),
      low("reqs also met", RUN, { onfail_all: [{ test: "d" }], require: [{ test: "a" }] }),
    ]);
    assert.deepEqual(normalize(res), {
      a: [0, true, true],
      b: [1, true, true],
      c: [2, true, true],
      d: [3, false, true],
      e: [4, false, true],
      f: [5, false, true],
      "reqs not met": [6, true, false],
      "reqs also not met": [7, true, false],
      "reqs met": [8, true, true],
      "reqs also met": [9, true, true],
    });
    const skipped = Object.values(res).find((r) => r.__id__ === "reqs not met")!;
    assert.equal(skipped.comment, "State was not run because onfail req did not change");
  });

  it("issue 46762: a prereq on a state whose requisite failed fails with the chain named", async () => {
    const res = await run([
      low("a", "fail_without_changes"),
      low("b", "nop", { prereq: ["c"] }),
      low("c", "nop", { require: ["a"] }),
    ]);
    assert.deepEqual(
      [
        res["test_|-a_|-a_|-fail_without_changes"]!.comment,
        res["test_|-b_|-b_|-nop"]!.comment,
        res["test_|-c_|-c_|-nop"]!.comment,
      ],
      ["Failure!", "One or more requisite failed: requisite.c", "One or more requisite failed: requisite.a"],
    );
    assert.ok(Object.values(res).every((r) => r.result === false));
  });

  it("issue 30161: unless and onlyif together, every command looked at", async () => {
    const res = await run([
      low("unless_false_onlyif_true", RUN, { unless: "false", onlyif: "true" }),
      low("unless_true_onlyif_false", RUN, { unless: "true", onlyif: "false" }),
      low("unless_true_onlyif_true", RUN, { unless: "true", onlyif: "true" }),
      low("unless_false_onlyif_false", RUN, { unless: "false", onlyif: "false" }),
    ]);
    const by = Object.fromEntries(
      Object.values(res).map((r) => [r.__id__, [r.result, r.comment, r.skip_watch ?? false]]),
    );
    assert.deepEqual(by, {
      unless_false_onlyif_true: [true, "Success!", false],
      unless_true_onlyif_false: [true, "onlyif condition is false\nunless condition is true", true],
      unless_true_onlyif_true: [true, "onlyif condition is true\nunless condition is true", true],
      unless_false_onlyif_false: [true, "onlyif condition is false\nunless condition is false", true],
    });
  });
});

describe("Salt's mixed requisite tests", () => {
  it("mixed require/prereq 1: C, B, A (a prereq loop through require_in does not hang)", async () => {
    const res = await run([
      low("A", RUN, { prereq_in: [{ test: "C" }] }),
      low("B", RUN, { require_in: [{ test: "A" }] }),
      low("C", RUN, { prereq: [{ test: "B" }] }),
    ]);
    assert.deepEqual(normalize(res), { C: [0, true, true], B: [1, true, true], A: [2, true, true] });
  });

  it("mixed 3 (issue 8785, require and prereq that cannot both hold): every state has a result, none hangs", async () => {
    const res = await run([
      low("A", RUN, { require_in: [{ test: "B" }] }),
      low("B", RUN, { prereq: [{ test: "A" }] }),
    ]);
    assert.deepEqual(
      Object.values(res)
        .map((r) => r.__id__)
        .sort(),
      ["A", "B"],
    );
  });
});
