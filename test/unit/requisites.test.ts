import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { RequisiteCycleError, RequisiteError } from "../../src/core/errors.js";
import { executeRun, planRun, type Chunk, type RequisiteRef, type StepContext, type StepOutcome } from "../../src/core/requisites/index.js";

type Reqs = Partial<Record<string, RequisiteRef[]>>;
interface Spec {
  readonly result?: boolean | null;
  readonly changes?: boolean;
}

const ref = (value: string, key = "test"): RequisiteRef => ({ key, value });

function chunk(id: string, opts: { reqs?: Reqs; order?: number | "first" | "last"; failhard?: boolean; parallel?: boolean; spec?: Spec } = {}): Chunk<Spec> {
  return {
    id,
    state: "test",
    fun: "run",
    name: id,
    sls: "orch.t",
    ...(opts.reqs ? { requisites: opts.reqs } : {}),
    ...(opts.order !== undefined ? { order: opts.order } : {}),
    ...(opts.failhard !== undefined ? { failhard: opts.failhard } : {}),
    ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
    payload: opts.spec ?? {},
  };
}

/** Runs chunks with a step that returns each chunk's spec; records the calls. */
async function run(chunks: Chunk<Spec>[], opts: { failhard?: boolean; test?: boolean } = {}) {
  const calls: string[] = [];
  const plan = planRun(chunks, { failhard: opts.failhard ?? false });
  let t = 0;
  const out = await executeRun(
    plan,
    (c, ctx: StepContext): Promise<StepOutcome> => {
      calls.push(ctx.modWatch ? `${c.id}:mod_watch` : c.id);
      const changes = c.payload.changes && !ctx.modWatch ? { x: 1 } : {};
      return Promise.resolve({ result: c.payload.result === undefined ? true : c.payload.result, changes, comment: "ran" });
    },
    { now: () => (t += 5), test: opts.test ?? false },
  );
  const by = (id: string) => out.results[`test_|-${id}_|-${id}_|-run`];
  return { calls, out, by };
}

describe("requisites: order", () => {
  it("keeps definition order, honours numbers, first and last", async () => {
    const { calls } = await run([chunk("a", { order: "last" }), chunk("b"), chunk("c", { order: 1 }), chunk("d", { order: "first" })]);
    assert.deepEqual(calls, ["d", "c", "b", "a"]);
  });

  it("runs a required step first, wherever it is defined", async () => {
    const { calls, by } = await run([chunk("a", { reqs: { require: [ref("b")] } }), chunk("b")]);
    assert.deepEqual(calls, ["b", "a"]);
    assert.equal(by("b")?.__run_num__, 0);
    assert.equal(by("a")?.__run_num__, 1);
  });
});

describe("requisites: require and watch", () => {
  it("require fails when a required step failed, with Salt's comment", async () => {
    const { calls, by } = await run([chunk("a", { spec: { result: false } }), chunk("b", { reqs: { require: [ref("a")] } })]);
    assert.deepEqual(calls, ["a"]);
    assert.equal(by("b")?.result, false);
    assert.equal(by("b")?.comment, "One or more requisite failed: orch.t.a");
    assert.deepEqual(by("b")?.changes, {});
  });

  it("require_any runs when one required step succeeded", async () => {
    const { calls } = await run([chunk("a", { spec: { result: false } }), chunk("b"), chunk("c", { reqs: { require_any: [ref("a"), ref("b")] } })]);
    assert.deepEqual(calls, ["a", "b", "c"]);
  });

  it("require_any fails when every required step failed", async () => {
    const { by } = await run([chunk("a", { spec: { result: false } }), chunk("b", { spec: { result: false } }), chunk("c", { reqs: { require_any: [ref("a"), ref("b")] } })]);
    assert.equal(by("c")?.comment, "One or more requisite failed: orch.t.a, orch.t.b");
  });

  it("watch calls mod_watch when the watched step changed and the step itself made no changes", async () => {
    const { calls } = await run([chunk("a", { spec: { changes: true } }), chunk("b", { reqs: { watch: [ref("a")] } })]);
    assert.deepEqual(calls, ["a", "b", "b:mod_watch"]);
  });

  it("watch without changes is a plain require", async () => {
    const { calls } = await run([chunk("a"), chunk("b", { reqs: { watch: [ref("a")] } })]);
    assert.deepEqual(calls, ["a", "b"]);
  });

  it("matches references by id only (`- a`), by state, and by glob", async () => {
    const { calls } = await run([chunk("web1"), chunk("web2"), chunk("x", { order: "first", reqs: { require: [{ key: "id", value: "web*" }] } })]);
    assert.deepEqual(calls, ["web1", "web2", "x"]);
  });
});

describe("requisites: onfail and onchanges", () => {
  it("onfail runs the handler only when a watched step failed", async () => {
    const ok = await run([chunk("a"), chunk("h", { reqs: { onfail: [ref("a")] } })]);
    assert.deepEqual(ok.calls, ["a"]);
    assert.equal(ok.by("h")?.comment, "State was not run because onfail req did not change");
    assert.equal(ok.by("h")?.result, true);
    assert.equal(ok.by("h")?.__state_ran__, false);
    const bad = await run([chunk("a", { spec: { result: false } }), chunk("h", { reqs: { onfail: [ref("a")] } })]);
    assert.deepEqual(bad.calls, ["a", "h"]);
  });

  it("onfail is any-of, onfail_all needs every watched step to fail", async () => {
    const steps = (kind: string) => [chunk("a", { spec: { result: false } }), chunk("b"), chunk("h", { reqs: { [kind]: [ref("a"), ref("b")] } })];
    assert.deepEqual((await run(steps("onfail"))).calls, ["a", "b", "h"]);
    assert.deepEqual((await run(steps("onfail_any"))).calls, ["a", "b", "h"]);
    assert.deepEqual((await run(steps("onfail_all"))).calls, ["a", "b"]);
    const both = [chunk("a", { spec: { result: false } }), chunk("b", { spec: { result: false } }), chunk("h", { reqs: { onfail_all: [ref("a"), ref("b")] } })];
    assert.deepEqual((await run(both)).calls, ["a", "b", "h"]);
  });

  it("onchanges runs only when a watched step changed (any of them)", async () => {
    const none = await run([chunk("a"), chunk("h", { reqs: { onchanges: [ref("a")] } })]);
    assert.deepEqual(none.calls, ["a"]);
    assert.equal(none.by("h")?.comment, "State was not run because none of the onchanges reqs changed");
    const one = await run([chunk("a"), chunk("b", { spec: { changes: true } }), chunk("h", { reqs: { onchanges: [ref("a"), ref("b")] } })]);
    assert.deepEqual(one.calls, ["a", "b", "h"]);
    const any = await run([chunk("a", { spec: { result: false } }), chunk("b", { spec: { changes: true } }), chunk("h", { reqs: { onchanges_any: [ref("a"), ref("b")] } })]);
    assert.deepEqual(any.calls, ["a", "b", "h"]);
  });

  it("onchanges on a failed step is a failed requisite", async () => {
    const { by } = await run([chunk("a", { spec: { result: false, changes: true } }), chunk("h", { reqs: { onchanges: [ref("a")] } })]);
    assert.equal(by("h")?.comment, "One or more requisite failed: orch.t.a");
  });
});

describe("requisites: _in forms", () => {
  it("require_in, watch_in, onfail_in and onchanges_in add the requisite to the named step", async () => {
    const r = await run([chunk("b"), chunk("a", { reqs: { require_in: [ref("b")] } })]);
    assert.deepEqual(r.calls, ["a", "b"]);
    const w = await run([chunk("b"), chunk("a", { spec: { changes: true }, reqs: { watch_in: [ref("b")] } })]);
    assert.deepEqual(w.calls, ["a", "b", "b:mod_watch"]);
    const f = await run([chunk("h"), chunk("a", { reqs: { onfail_in: [ref("h")] } })]);
    assert.deepEqual(f.calls, ["a"]);
    const c = await run([chunk("h"), chunk("a", { spec: { changes: true }, reqs: { onchanges_in: [ref("h")] } })]);
    assert.deepEqual(c.calls, ["a", "h"]);
  });
});

describe("requisites: failhard", () => {
  it("stops the run at a failing failhard step; later steps are not run", async () => {
    const { calls, out } = await run([chunk("a"), chunk("b", { failhard: true, spec: { result: false } }), chunk("c"), chunk("d")]);
    assert.deepEqual(calls, ["a", "b"]);
    assert.equal(out.failhardTag, "test_|-b_|-b_|-run");
    assert.deepEqual(out.notRun, ["test_|-c_|-c_|-run", "test_|-d_|-d_|-run"]);
  });

  it("ignores onfail handlers of a failhard step, and runs them when the step sets failhard: False", async () => {
    const hard = await run([chunk("a", { spec: { result: false } }), chunk("h", { reqs: { onfail: [ref("a")] } })], { failhard: true });
    assert.deepEqual(hard.calls, ["a"]);
    const soft = await run([chunk("a", { failhard: false, spec: { result: false } }), chunk("h", { reqs: { onfail: [ref("a")] } })], { failhard: true });
    assert.deepEqual(soft.calls, ["a", "h"]);
  });

  it("does not stop a test run", async () => {
    const { calls } = await run([chunk("a", { failhard: true, spec: { result: false } }), chunk("b")], { test: true });
    assert.deepEqual(calls, ["a", "b"]);
  });
});

/** A latch: `open()` once, `wait()` resolves after; rejects after a generous limit instead of hanging. */
function latch(name: string) {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  const wait = () =>
    Promise.race([
      p,
      new Promise<never>((_r, reject) => {
        const t = setTimeout(() => reject(new Error(`latch ${name} never opened: steps did not run concurrently`)), 5000);
        void p.then(() => clearTimeout(t));
      }),
    ]);
  return { open, wait };
}

describe("requisites: parallel", () => {
  it("runs independent parallel steps concurrently (each waits for the other's latch)", async () => {
    const la = latch("a");
    const lb = latch("b");
    const plan = planRun([chunk("a", { parallel: true }), chunk("b", { parallel: true }), chunk("c", { reqs: { require: [ref("a"), ref("b")] } })]);
    const order: string[] = [];
    const out = await executeRun(plan, async (c) => {
      if (c.id === "a") {
        la.open();
        await lb.wait();
      } else if (c.id === "b") {
        lb.open();
        await la.wait();
      }
      order.push(c.id);
      return { result: true, changes: {}, comment: "" };
    });
    assert.equal(order.at(-1), "c");
    assert.equal(Object.keys(out.results).length, 3);
  });

  it("honours requisites between parallel steps", async () => {
    const order: string[] = [];
    const plan = planRun([chunk("a", { parallel: true }), chunk("b", { parallel: true, reqs: { require: [ref("a")] } })]);
    await executeRun(plan, async (c) => {
      order.push(`start ${c.id}`);
      await Promise.resolve();
      order.push(`end ${c.id}`);
      return { result: true, changes: {}, comment: "" };
    });
    assert.deepEqual(order, ["start a", "end a", "start b", "end b"]);
  });
});

describe("requisites: errors before anything runs", () => {
  it("names the step and the reference that matches nothing", () => {
    assert.throws(() => planRun([chunk("a", { reqs: { require: [ref("nope", "salt")] } })]), (err: unknown) => {
      assert.ok(err instanceof RequisiteError);
      assert.equal(err.message, 'step "a": require "salt: nope" matches no step');
      return true;
    });
  });

  it("reports a cycle with the requisites that form it", () => {
    const chunks = [chunk("a", { reqs: { require: [ref("b")] } }), chunk("b", { reqs: { watch: [ref("c")] } }), chunk("c", { reqs: { onfail: [ref("a")] } })];
    assert.throws(() => planRun(chunks), (err: unknown) => {
      assert.ok(err instanceof RequisiteCycleError);
      assert.equal(err.message, "requisite cycle: a (require b) -> b (watch c) -> c (onfail a) -> a");
      assert.deepEqual(err.cycle, ["a", "b", "c", "a"]);
      return true;
    });
  });

  it("rejects an unsupported requisite", () => {
    assert.throws(() => planRun([chunk("a", { reqs: { prereq: [ref("b")] } })]), /step "a": prereq is not a supported requisite/);
  });

  it("turns a throwing step into a failed result", async () => {
    const plan = planRun([chunk("a")]);
    const out = await executeRun(plan, () => Promise.reject(new Error("boom")));
    assert.equal(out.results["test_|-a_|-a_|-run"]?.comment, "An exception occurred in this state: boom");
  });
});
