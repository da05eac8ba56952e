import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { StateArgumentError } from "../../src/core/errors.js";
import {
  builtinStateModules,
  jidToTime,
  stateExecModule,
  type HighData,
  type LowChunk,
  type StateCompiler,
  type StateJob,
  type StateModule,
} from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

/**
 * A small compiler over fixed high data (the real one is engineer C's; this stands in for it so
 * that these tests look at the state.* functions): SLS name -> high data, top -> matches.
 */
function fixedCompiler(sls: Record<string, HighData>, top: Record<string, string[]>): StateCompiler {
  return {
    renderSls: (mods, env) => {
      const high: HighData = {};
      const errors: string[] = [];
      for (const m of mods) {
        const h = sls[m];
        if (!h) errors.push(`No matching sls found for '${m}' in env '${env.saltenv}'`);
        else Object.assign(high, h);
      }
      return Promise.resolve({ high, errors });
    },
    compileHigh: (high) => {
      const exclude = ((high as Record<string, unknown>).__exclude__ as string[] | undefined) ?? [];
      const chunks: LowChunk[] = [];
      for (const [id, body] of Object.entries(high)) {
        if (id.startsWith("__") || exclude.includes(id)) continue;
        for (const [state, list] of Object.entries(body)) {
          if (state.startsWith("__")) continue;
          const items = list as unknown[];
          const args = Object.assign({}, ...items.filter((x) => typeof x === "object")) as Record<
            string,
            unknown
          >;
          const fun = items.find((x) => typeof x === "string") as string;
          chunks.push({
            ...args,
            state,
            fun,
            name: (args.name as string) ?? id,
            __id__: id,
            __sls__: body.__sls__,
            __env__: body.__env__,
          });
        }
      }
      return { chunks, errors: [] };
    },
    topMatches: () => Promise.resolve({ matches: top, errors: [] }),
  };
}

const state = (sls: string, fun: string, ...args: Record<string, unknown>[]) => ({
  __sls__: sls,
  __env__: "base",
  test: [fun, ...args],
});

/** A `probe` state module: `pillar` reports the pillar it saw; `wait` blocks until released. */
function probe(): { module: StateModule; release: () => void; started: Promise<void> } {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const began = new Promise<void>((r) => (started = r));
  return {
    release,
    started: began,
    module: {
      name: "probe",
      functions: {
        pillar: (_a, ctx) =>
          Promise.resolve({ result: true, changes: {}, comment: JSON.stringify(ctx.pillar) }),
        wait: async () => {
          started();
          await gate;
          return { result: true, changes: {}, comment: "released" };
        },
      },
    },
  };
}

function setup(opts: { top?: Record<string, string[]>; pillar?: Record<string, unknown> } = {}) {
  const { ctx } = makeStateContext();
  const p = probe();
  const modules = new Map(builtinStateModules());
  modules.set("probe", p.module);
  const sls: Record<string, HighData> = {
    web: { ok: state("web", "succeed_with_changes"), nope: state("web", "nop") },
    bad: { broken: state("bad", "fail_without_changes") },
    pil: { show: { __sls__: "pil", __env__: "base", probe: ["pillar"] } },
    slow: { hold: { __sls__: "slow", __env__: "base", probe: ["wait"] } },
    ext: { a: state("ext", "nop", { require_in: [{ test: "W" }] }) },
  };
  const fns = stateExecModule({
    id: "web1",
    files: ctx.files,
    exec: ctx.exec,
    render: ctx.render,
    serviceManager: ctx.serviceManager,
    emit: ctx.emit,
    logger: ctx.logger,
    grains: () => Promise.resolve({ id: "web1" }),
    pillar: () => Promise.resolve(opts.pillar ?? { a: { b: 1, c: 2 } }),
    compiler: fixedCompiler(sls, opts.top ?? { base: ["web"] }),
    modules,
    pid: 4242,
  });
  let n = 0;
  const call = async (fun: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => {
    let retcode = 0;
    const job: StateJob = {
      jid: `2026120505360012345${n++}`,
      fun,
      signal: new AbortController().signal,
      setRetcode: (c) => void (retcode = c),
    };
    const value = await fns[fun]!(args, kwargs, job);
    return { value, retcode, jid: job.jid };
  };
  return { call, probe: p };
}

const ids = (v: unknown) =>
  Object.values(v as Record<string, { __id__: string; result: unknown }>).map(
    (r) => `${r.__id__}=${String(r.result)}`,
  );

describe("state.* execution functions", () => {
  it("state.sls runs the named SLS (a list or comma-separated), retcode 0; a failed state gives retcode 2", async () => {
    const { call } = setup();
    const ok = await call("state.sls", ["web"]);
    assert.deepEqual(ids(ok.value), ["ok=true", "nope=true"]);
    assert.equal(ok.retcode, 0);
    const both = await call("state.sls", [], { mods: "web, bad" });
    assert.deepEqual(ids(both.value), ["ok=true", "nope=true", "broken=false"]);
    assert.equal(both.retcode, 2);
  });

  it("render errors are returned as Salt's list with retcode 1; no mods is an argument error", async () => {
    const { call } = setup();
    const r = await call("state.sls", ["nosuch"]);
    assert.deepEqual(r.value, ["No matching sls found for 'nosuch' in env 'base'"]);
    assert.equal(r.retcode, 1);
    await assert.rejects(call("state.sls", []), StateArgumentError);
    const ext = await call("state.sls", ["ext"]);
    assert.equal(ext.retcode, 1);
    assert.match(
      (ext.value as string[])[0]!,
      /^Cannot extend ID 'W' in 'base:ext'\. It is not part of the high state\./,
    );
  });

  it("state.apply without mods and state.highstate run the top file's states; no match is Salt's 'No Top file' result", async () => {
    const { call } = setup();
    assert.deepEqual(ids((await call("state.apply")).value), ["ok=true", "nope=true"]);
    assert.deepEqual(ids((await call("state.highstate")).value), ["ok=true", "nope=true"]);
    const none = await setup({ top: {} }).call("state.apply");
    assert.equal(none.retcode, 2);
    assert.deepEqual(Object.keys(none.value as object), ["no_|-states_|-states_|-None"]);
    assert.match(JSON.stringify(none.value), /No Top file or master_tops data matches found/);
  });

  it("test=True and state.test: result None, nothing changed", async () => {
    const { call } = setup();
    assert.deepEqual(ids((await call("state.apply", ["web"], { test: true })).value), [
      "ok=null",
      "nope=true",
    ]);
    assert.deepEqual(ids((await call("state.test", ["web"])).value), ["ok=null", "nope=true"]);
  });

  it("pillar= is merged over the agent's pillar; a pillar that is not a map is refused", async () => {
    const { call } = setup();
    const r = await call("state.sls", ["pil"], { pillar: { a: { c: 3 }, d: 4 } });
    assert.equal(
      Object.values(r.value as Record<string, { comment: string }>)[0]!.comment,
      JSON.stringify({ a: { b: 1, c: 3 }, d: 4 }),
    );
    await assert.rejects(
      call("state.sls", ["pil"], { pillar: "x" }),
      /pillar' must be formatted as a dictionary/,
    );
  });

  it("exclude drops states by id", async () => {
    const { call } = setup();
    assert.deepEqual(ids((await call("state.sls", ["web"], { exclude: "nope" })).value), ["ok=true"]);
    let seen: unknown;
    const { ctx } = makeStateContext();
    const compiler = fixedCompiler({ web: { ok: state("web", "nop") } }, {});
    const fns = stateExecModule({
      ...ctx,
      id: "web1",
      grains: () => Promise.resolve({}),
      pillar: () => Promise.resolve({}),
      compiler: {
        ...compiler,
        compileHigh: (high) => (
          (seen = (high as Record<string, unknown>).__exclude__),
          compiler.compileHigh(high)
        ),
      },
    });
    const job: StateJob = {
      jid: "20261205053600000000",
      fun: "state.sls",
      signal: new AbortController().signal,
      setRetcode: () => undefined,
    };
    await fns["state.sls"]!(["web"], { exclude: [{ sls: "db" }, "a, b"] }, job);
    assert.deepEqual(seen, [{ sls: "db" }, "a", "b"]);
  });

  it("state.single calls one state function; unknown or malformed functions answer as Salt with retcode 1", async () => {
    const { call } = setup();
    const r = await call("state.single", ["test.succeed_with_changes", "thing"]);
    assert.deepEqual(Object.keys(r.value as object), ["test_|-thing_|-thing_|-succeed_with_changes"]);
    const missing = await call("state.single", ["test.nothing", "x"]);
    assert.deepEqual([missing.value, missing.retcode], [["Specified state 'test.nothing' was not found"], 1]);
    const invalid = await call("state.single", ["nodot", "x"]);
    assert.deepEqual([invalid.value, invalid.retcode], ["Invalid function passed", 1]);
  });

  it("one state run at a time: a second answers with the running jid (retcode 1); queue=True waits its turn", async () => {
    const { call, probe: p } = setup();
    const first = call("state.sls", ["slow"]);
    await p.started;
    const jid = "20261205053600123450";
    const expected = `The function "state.sls" is running as PID 4242 and was started at ${jidToTime(jid)} with jid ${jid}`;
    assert.equal(jidToTime(jid), "2026, Dec 05 05:36:00.123450");
    const second = await call("state.apply", ["web"]);
    assert.deepEqual([second.value, second.retcode], [[expected], 1]);
    assert.deepEqual((await call("state.running")).value, [expected]);
    const queued = call("state.apply", ["web"], { queue: true });
    p.release();
    assert.deepEqual(ids((await first).value), ["hold=true"]);
    assert.deepEqual(ids((await queued).value), ["ok=true", "nope=true"]);
    assert.deepEqual((await call("state.running")).value, []);
  });

  it("state.show_sls / show_low_sls / show_top / show_lowstate return the compiler's data", async () => {
    const { call } = setup();
    const high = (await call("state.show_sls", ["bad"])).value as HighData;
    assert.deepEqual(Object.keys(high), ["broken"]);
    const low = (await call("state.show_low_sls", ["bad"])).value as LowChunk[];
    assert.deepEqual(
      low.map((c) => `${c.state}.${c.fun}:${c.__id__}`),
      ["test.fail_without_changes:broken"],
    );
    assert.deepEqual((await call("state.show_top")).value, { base: ["web"] });
    assert.equal(((await call("state.show_lowstate")).value as LowChunk[]).length, 2);
    const err = await call("state.show_sls", ["nosuch"]);
    assert.equal(err.retcode, 1);
  });
});
