import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  builtinStateModules,
  runChunks,
  type LowChunk,
  type StateModule,
  type StateResult,
} from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const dir = mkdtempSync(join(tmpdir(), "state-run-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A test-state low chunk `id` (name = id unless given) in SLS `t`. */
function low(id: string, fun: string, extra: Record<string, unknown> = {}): LowChunk {
  return { state: "test", fun, name: id, __id__: id, __sls__: "t", __env__: "base", ...extra };
}

async function run(
  chunks: LowChunk[],
  opts: { test?: boolean; failhard?: boolean } = {},
): Promise<Record<string, StateResult>> {
  const { ctx } = makeStateContext();
  return runChunks(chunks, {
    modules: builtinStateModules(),
    ctx,
    ...(opts.test !== undefined ? { test: opts.test } : {}),
    ...(opts.failhard !== undefined ? { failhard: opts.failhard } : {}),
  });
}

const tag = (id: string, fun: string, name = id) => `test_|-${id}_|-${name}_|-${fun}`;

/** Results by id, for short assertions. */
function byId(res: Record<string, StateResult>): Record<string, StateResult> {
  return Object.fromEntries(Object.values(res).map((r) => [r.__id__, r]));
}

/** Ids in __run_num__ order. */
function order(res: Record<string, StateResult>): string[] {
  return Object.values(res)
    .sort((a, b) => a.__run_num__ - b.__run_num__)
    .map((r) => r.__id__);
}

const CHANGED = { testing: { old: "Unchanged", new: "Something pretended to change" } };

describe("state runner: results", () => {
  it("keys results as Salt's tags with Salt's fields, __run_num__ in run order", async () => {
    const res = await run([
      low("a", "succeed_with_changes"),
      low("b", "nop", { name: "bee" }),
      low("c", "fail_without_changes", { comment: "no" }),
    ]);
    assert.deepEqual(Object.keys(res), [
      tag("a", "succeed_with_changes"),
      tag("b", "nop", "bee"),
      tag("c", "fail_without_changes"),
    ]);
    const a = res[tag("a", "succeed_with_changes")]!;
    assert.deepEqual(
      {
        name: a.name,
        result: a.result,
        changes: a.changes,
        comment: a.comment,
        __id__: a.__id__,
        __sls__: a.__sls__,
        __run_num__: a.__run_num__,
      },
      {
        name: "a",
        result: true,
        changes: CHANGED,
        comment: "Success!",
        __id__: "a",
        __sls__: "t",
        __run_num__: 0,
      },
    );
    assert.equal(typeof a.duration, "number");
    assert.match(a.start_time, /^\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(res[tag("b", "nop", "bee")]!.name, "bee");
    assert.deepEqual(byId(res).c!.comment, "no");
    assert.deepEqual(order(res), ["a", "b", "c"]);
  });

  it("an unknown state function fails that state with Salt's comment, the rest runs", async () => {
    const res = byId(await run([low("a", "no_such_fun"), low("b", "nop")]));
    assert.equal(res.a!.result, false);
    assert.equal(res.a!.comment, "State 'test.no_such_fun' was not found in SLS 't'\n");
    assert.equal(res.b!.result, true);
  });

  it("test mode: result None with the changes that would be made", async () => {
    const res = byId(
      await run([low("a", "succeed_with_changes"), low("b", "succeed_without_changes")], { test: true }),
    );
    assert.equal(res.a!.result, null);
    assert.deepEqual(res.a!.changes, CHANGED);
    assert.equal(res.a!.comment, "If we weren't testing, this would be successful with changes");
    assert.equal(res.b!.result, true);
  });
});

describe("state runner: requisites", () => {
  it("require: a failed requisite fails the state with Salt's comment; require runs it first", async () => {
    const res = await run([low("b", "nop", { require: [{ test: "a" }] }), low("a", "fail_without_changes")]);
    assert.deepEqual(order(res), ["a", "b"]);
    assert.equal(byId(res).b!.result, false);
    assert.equal(byId(res).b!.comment, "One or more requisite failed: t.a");
  });

  it("require by the state's name, by a bare id, and `- sls: name`", async () => {
    const res = byId(
      await run([
        low("x", "nop", { require: [{ test: "the-name" }] }),
        low("y", "nop", { require: ["a"] }),
        low("z", "nop", { require: [{ sls: "other" }] }),
        low("a", "nop", { name: "the-name" }),
        low("o", "fail_without_changes", { __sls__: "other" }),
      ]),
    );
    assert.equal(res.x!.result, true);
    assert.ok(res.x!.__run_num__ > res.a!.__run_num__);
    assert.equal(res.y!.result, true);
    assert.equal(res.z!.comment, "One or more requisite failed: other.o");
  });

  it("require_in and require_any", async () => {
    const res = byId(
      await run([
        low("a", "fail_without_changes", { require_in: [{ test: "b" }] }),
        low("b", "nop"),
        low("c", "nop", { require_any: [{ test: "a" }, { test: "d" }] }),
        low("d", "nop"),
      ]),
    );
    assert.equal(res.b!.comment, "One or more requisite failed: t.a");
    assert.equal(res.c!.result, true);
    assert.equal(res.c!.comment, "Success!");
  });

  it("watch: a watched change calls mod_watch; a state with its own changes is not mod_watched", async () => {
    const res = byId(
      await run([
        low("a", "succeed_with_changes"),
        low("n", "succeed_without_changes"),
        low("w", "succeed_without_changes", { watch: [{ test: "a" }, { test: "n" }] }),
        low("v", "succeed_with_changes", { watch: [{ test: "a" }] }),
        low("q", "succeed_without_changes", { watch: [{ test: "n" }] }),
        low("i", "succeed_without_changes"),
        low("j", "succeed_with_changes", { watch_in: [{ test: "i" }] }),
      ]),
    );
    assert.equal(res.w!.comment, "Watch statement fired.");
    assert.deepEqual(res.w!.changes, { "Requisites with changes": ["test: a"] });
    assert.equal(res.v!.comment, "Success!");
    assert.equal(res.q!.comment, "Success!");
    assert.equal(res.i!.comment, "Watch statement fired.");
  });

  it("onchanges: skipped with Salt's comment and __state_ran__ False unless a requisite changed", async () => {
    const res = byId(
      await run([
        low("n", "succeed_without_changes"),
        low("c", "succeed_with_changes"),
        low("skip", "succeed_with_changes", { onchanges: [{ test: "n" }] }),
        low("go", "succeed_with_changes", { onchanges: [{ test: "c" }] }),
        low("any", "succeed_with_changes", { onchanges_any: [{ test: "n" }, { test: "c" }] }),
        low("in", "succeed_with_changes"),
        low("src", "succeed_without_changes", { onchanges_in: [{ test: "in" }] }),
      ]),
    );
    assert.deepEqual(
      {
        result: res.skip!.result,
        comment: res.skip!.comment,
        ran: res.skip!.__state_ran__,
        changes: res.skip!.changes,
      },
      {
        result: true,
        comment: "State was not run because none of the onchanges reqs changed",
        ran: false,
        changes: {},
      },
    );
    assert.deepEqual(res.go!.changes, CHANGED);
    assert.deepEqual(res.any!.changes, CHANGED);
    assert.equal(res.in!.comment, "State was not run because none of the onchanges reqs changed");
  });

  it("onfail: runs only when a requisite failed; onfail_in", async () => {
    const res = byId(
      await run([
        low("ok", "succeed_without_changes"),
        low("bad", "fail_without_changes"),
        low("skip", "succeed_with_changes", { onfail: [{ test: "ok" }] }),
        low("go", "succeed_with_changes", { onfail: [{ test: "bad" }] }),
        low("rescue", "succeed_with_changes"),
        low("bad2", "fail_with_changes", { onfail_in: [{ test: "rescue" }] }),
      ]),
    );
    assert.deepEqual(
      { result: res.skip!.result, comment: res.skip!.comment, ran: res.skip!.__state_ran__ },
      { result: true, comment: "State was not run because onfail req did not change", ran: false },
    );
    assert.deepEqual(res.go!.changes, CHANGED);
    assert.deepEqual(res.rescue!.changes, CHANGED);
  });

  it("requisites that name no state fail that state with Salt's 'not found' comment", async () => {
    const res = byId(
      await run([low("a", "nop", { require: [{ test: "ghost" }], watch: ["nobody"] }), low("b", "nop")]),
    );
    assert.equal(res.a!.result, false);
    assert.equal(
      res.a!.comment,
      "The following requisites were not found:\n" +
        `${" ".repeat(19)}require:\n${" ".repeat(23)}test: ghost\n` +
        `${" ".repeat(19)}watch:\n${" ".repeat(23)}id: nobody\n`,
    );
    assert.equal(res.b!.result, true);
  });

  it("a requisite cycle reports 'Recursive requisite found' instead of hanging", async () => {
    const res = byId(
      await run([
        low("a", "nop", { require: [{ test: "b" }] }),
        low("b", "nop", { require: [{ test: "a" }] }),
      ]),
    );
    const comments = [res.a!.comment, res.b!.comment].sort();
    assert.deepEqual(comments, ["One or more requisite failed: t.b", "Recursive requisite found"]);
  });

  it("a malformed requisite value fails the state, naming it", async () => {
    const res = byId(await run([low("a", "nop", { require: [{ test: "b", other: "c" }] }), low("b", "nop")]));
    assert.equal(res.a!.result, false);
    assert.match(res.a!.comment, /^Invalid requisite require in ID 'a' in SLS 't': must be a list/);
  });
});

describe("state runner: prereq", () => {
  it("the prereq state runs first when the named state would change, then the named state runs", async () => {
    const res = byId(
      await run([
        low("svc", "succeed_with_changes"),
        low("stop", "succeed_with_changes", { prereq: [{ test: "svc" }] }),
      ]),
    );
    assert.deepEqual(order({ a: res.stop!, b: res.svc! }), ["stop", "svc"]);
    assert.deepEqual(res.stop!.changes, CHANGED);
    assert.equal(res.svc!.result, true);
    assert.deepEqual(res.svc!.changes, CHANGED);
  });

  it("when the named state would not change, the prereq state is not run: 'No changes detected'", async () => {
    const res = byId(
      await run([
        low("svc", "succeed_without_changes"),
        low("stop", "succeed_with_changes", { prereq: [{ test: "svc" }] }),
      ]),
    );
    assert.deepEqual(
      { result: res.stop!.result, comment: res.stop!.comment, changes: res.stop!.changes },
      { result: true, comment: "No changes detected", changes: {} },
    );
    assert.equal(res.svc!.comment, "Success!");
  });

  it("prereq_in; a failing prereq state leaves the named one with its test-mode comment and no changes", async () => {
    // `svc: prereq_in: stop` is `stop: prereq: svc`: stop runs first, as svc would change.
    const res = byId(
      await run([
        low("svc", "succeed_with_changes", { prereq_in: [{ test: "stop" }] }),
        low("stop", "fail_with_changes"),
      ]),
    );
    assert.equal(res.stop!.result, false);
    assert.deepEqual(res.svc!.changes, {});
    assert.equal(res.svc!.comment, "If we weren't testing, this would be successful with changes");
    assert.ok(res.svc!.__run_num__ > res.stop!.__run_num__);
  });
});

describe("state runner: listen and use", () => {
  it("listen: the listener's mod_watch runs once, at the end, under Salt's listener key", async () => {
    const res = await run([
      low("l", "succeed_without_changes", { listen: [{ test: "a" }, { test: "b" }] }),
      low("a", "succeed_with_changes"),
      low("b", "succeed_with_changes"),
      low("quiet", "succeed_without_changes", { listen: [{ test: "n" }] }),
      low("n", "succeed_without_changes"),
    ]);
    const key = "test_|-listener_l_|-l_|-mod_watch";
    assert.ok(res[key], Object.keys(res).join(", "));
    assert.equal(res[key]!.comment, "Watch statement fired.");
    assert.equal(res[key]!.__run_num__, 5);
    assert.equal(Object.keys(res).filter((k) => k.includes("listener_")).length, 1);
    assert.equal(byId(res).l!.comment, "Success!");
  });

  it("listen_in, and a listen to a state that does not exist reports Salt's Listen_Error", async () => {
    const res = await run([
      low("l", "succeed_without_changes"),
      low("a", "succeed_with_changes", { listen_in: [{ test: "l" }] }),
      low("m", "nop", { listen: [{ test: "ghost" }] }),
    ]);
    assert.equal(res["test_|-listener_l_|-l_|-mod_watch"]!.comment, "Watch statement fired.");
    const err = res["Listen_Error_|-listen_ghost_|-listen_test_|-Listen_Error"]!;
    assert.equal(err.result, false);
    assert.equal(err.comment, "Referenced state test: ghost does not exist");
  });

  it("use copies the other state's arguments that this one does not set; use_in the other way", async () => {
    const res = byId(
      await run([
        low("base", "succeed_without_changes", { comment: "from base" }),
        low("u", "succeed_without_changes", { use: [{ test: "base" }] }),
        low("own", "succeed_without_changes", { comment: "mine", use: [{ test: "base" }] }),
        low("giver", "succeed_without_changes", { comment: "given", use_in: [{ test: "taker" }] }),
        low("taker", "succeed_without_changes"),
      ]),
    );
    assert.equal(res.u!.comment, "from base");
    assert.equal(res.own!.comment, "mine");
    assert.equal(res.taker!.comment, "given");
  });
});

describe("state runner: global options", () => {
  it("unless / onlyif with real commands (strings and lists), creates with real files", async () => {
    const present = join(dir, "present");
    writeFileSync(present, "x");
    const res = byId(
      await run([
        low("u1", "succeed_with_changes", { unless: "true" }),
        low("u2", "succeed_with_changes", { unless: ["true", "false"] }),
        low("o1", "succeed_with_changes", { onlyif: "false" }),
        low("o2", "succeed_with_changes", { onlyif: ["true", "test -f " + present] }),
        low("c1", "succeed_with_changes", { creates: present }),
        low("c2", "succeed_with_changes", { creates: [present, join(dir, "absent")] }),
        low("f1", "succeed_with_changes", { onlyif: [{ fun: "test.echo", text: "" }] }),
        low("f2", "succeed_with_changes", { unless: [{ fun: "test.echo", text: "yes" }] }),
      ]),
    );
    const skipped = (r: StateResult) => ({
      result: r.result,
      comment: r.comment,
      changes: r.changes,
      skip_watch: r.skip_watch,
    });
    assert.deepEqual(skipped(res.u1!), {
      result: true,
      comment: "unless condition is true",
      changes: {},
      skip_watch: true,
    });
    assert.deepEqual(res.u2!.changes, CHANGED);
    assert.deepEqual(skipped(res.o1!), {
      result: true,
      comment: "onlyif condition is false",
      changes: {},
      skip_watch: true,
    });
    assert.deepEqual(res.o2!.changes, CHANGED);
    assert.deepEqual(skipped(res.c1!), {
      result: true,
      comment: `${present} exists`,
      changes: {},
      skip_watch: true,
    });
    assert.deepEqual(res.c2!.changes, CHANGED);
    assert.equal(res.f1!.comment, "onlyif condition is false");
    assert.equal(res.f2!.comment, "unless condition is true");
  });

  it("a watch does not fire mod_watch when unless skipped the state (skip_watch)", async () => {
    const res = byId(
      await run([
        low("a", "succeed_with_changes"),
        low("w", "succeed_without_changes", { unless: "true", watch: [{ test: "a" }] }),
      ]),
    );
    assert.equal(res.w!.comment, "unless condition is true");
  });

  it("unless runs its command with the state's cwd", async () => {
    const res = byId(await run([low("a", "succeed_with_changes", { unless: "test -f present", cwd: dir })]));
    assert.equal(res.a!.comment, "unless condition is true");
  });

  it("test mode still runs unless/onlyif (they are checks)", async () => {
    const marker = join(dir, "checked-in-test-mode");
    const res = byId(
      await run([low("a", "succeed_with_changes", { onlyif: `touch ${marker}` })], { test: true }),
    );
    assert.ok(existsSync(marker));
    assert.equal(res.a!.result, null);
  });

  it("check_cmd decides the result after the state ran", async () => {
    const res = byId(
      await run([
        low("a", "succeed_with_changes", { check_cmd: ["false"] }),
        low("b", "fail_without_changes", { check_cmd: ["true"] }),
      ]),
    );
    assert.deepEqual([res.a!.result, res.a!.comment], [false, "check_cmd determined the state failed"]);
    assert.deepEqual([res.b!.result, res.b!.comment], [true, "check_cmd determined the state succeeded"]);
  });

  it("retry re-runs until the result is `until`, with Salt's attempt comments", async () => {
    const counter = join(dir, "retry-count");
    const cmd = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`;
    const res = byId(
      await run([
        low("a", "succeed_without_changes", { check_cmd: [cmd], retry: { attempts: 5, interval: 0 } }),
      ]),
    );
    assert.equal(res.a!.result, true);
    assert.equal(
      res.a!.comment,
      'Attempt 1: Returned a result of "False", with the following comment: "check_cmd determined the state failed"\n' +
        'Attempt 2: Returned a result of "False", with the following comment: "check_cmd determined the state failed"\n' +
        "check_cmd determined the state succeeded",
    );
  });

  it("retry gives up after `attempts`; in test mode it only says it would retry", async () => {
    const res = byId(await run([low("a", "fail_without_changes", { retry: { attempts: 2, interval: 0 } })]));
    assert.equal(res.a!.result, false);
    assert.equal(
      res.a!.comment,
      'Attempt 1: Returned a result of "False", with the following comment: "Failure!"\nFailure!',
    );
    const t = byId(await run([low("a", "succeed_with_changes", { retry: true })], { test: true }));
    assert.equal(
      t.a!.comment,
      "If we weren't testing, this would be successful with changes  The state would be retried every 30 seconds (with a splay of up to 0 seconds) a maximum of 2 times or until a result of True is returned",
    );
  });

  it("failhard on a state stops the run; the run-wide failhard too; not in test mode", async () => {
    const res = await run([
      low("a", "nop"),
      low("b", "fail_without_changes", { failhard: true }),
      low("c", "nop"),
    ]);
    assert.deepEqual(order(res), ["a", "b"]);
    const wide = await run([low("a", "fail_without_changes"), low("b", "nop")], { failhard: true });
    assert.deepEqual(order(wide), ["a"]);
    const test = await run([low("a", "fail_without_changes", { failhard: true }), low("b", "nop")], {
      test: true,
    });
    assert.deepEqual(order(test), ["a", "b"]);
  });

  it("order: first/last and numbers", async () => {
    const res = await run([
      low("a", "nop", { order: "last" }),
      low("b", "nop"),
      low("c", "nop", { order: 1 }),
      low("d", "nop", { order: "first" }),
    ]);
    assert.deepEqual(order(res), ["d", "c", "b", "a"]);
  });

  it("a state function gets its arguments with name, runas and cwd, never Salt's reserved keys", async () => {
    const seen: Record<string, unknown>[] = [];
    const modules = new Map(builtinStateModules());
    modules.set("probe", {
      name: "probe",
      functions: {
        args: (args) => {
          seen.push({ ...args });
          return Promise.resolve({ result: true, changes: {}, comment: "" });
        },
      },
    });
    const { ctx } = makeStateContext();
    await runChunks(
      [
        low("n", "nop"),
        {
          ...low("a", "args"),
          state: "probe",
          name: "the-name",
          runas: "nobody",
          cwd: dir,
          mode: "0644",
          require: [{ test: "n" }],
          unless: "false",
          retry: { attempts: 1 },
          order: 5,
          failhard: false,
          reload_modules: true,
          listen: [{ test: "n" }],
        },
      ],
      { modules, ctx },
    );
    assert.deepEqual(seen, [{ name: "the-name", runas: "nobody", cwd: dir, mode: "0644" }]);
  });
});

describe("state runner: parallel", () => {
  it("parallel states overlap; a state requiring them waits for both", async () => {
    const log: string[] = [];
    const mark: StateModule = {
      name: "mark",
      functions: {
        step: async (args) => {
          log.push(`start:${args.name}`);
          await new Promise<void>((r) => setImmediate(r));
          log.push(`end:${args.name}`);
          return { result: true, changes: {}, comment: "marked" };
        },
      },
    };
    const modules = new Map(builtinStateModules());
    modules.set("mark", mark);
    const m = (id: string, extra: Record<string, unknown> = {}): LowChunk => ({
      ...low(id, "step", extra),
      state: "mark",
    });
    const { ctx } = makeStateContext();
    const res = await runChunks(
      [
        m("a", { parallel: true }),
        m("b", { parallel: true }),
        m("c", { require: [{ mark: "a" }, { mark: "b" }] }),
      ],
      { modules, ctx },
    );
    assert.deepEqual(log, ["start:a", "start:b", "end:a", "end:b", "start:c", "end:c"]);
    assert.deepEqual(
      Object.values(res).map((r) => r.__parallel__ ?? false),
      [true, true, false],
    );
    log.length = 0;
    await runChunks([m("a"), m("b")], { modules, ctx });
    assert.deepEqual(log, ["start:a", "end:a", "start:b", "end:b"]);
  });
});
