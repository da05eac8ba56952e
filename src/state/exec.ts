/**
 * The `state.*` execution functions of the agent (salt/modules/state.py): apply, sls, highstate,
 * single, test, running and show_*. One state run at a time per agent: a second call answers
 * with the running one's jid (or waits, with `queue=True`). The job's retcode is 1 when the SLS
 * did not render or compile, 2 when a state failed.
 *
 * The compiler (render, compile, top file) is a port so that this table is wired in one place:
 * `StateCompiler` is the contract's `renderSls` / `compileHigh` plus the top file's matches.
 */
import type { EventSink, Logger, ServiceManager } from "../core/ports.js";
import { StateArgumentError, StateError } from "../core/errors.js";
import {
  bool,
  excludeList,
  mergePillar,
  pick,
  pillarOverride,
  requireMods,
  splitInput,
  testValue,
} from "./exec-args.js";
import { requisiteInErrors } from "./low.js";
import { builtinStateModules } from "./modules/index.js";
import { RunLock, type StateExecFunction, type StateJob } from "./queue.js";
import { runChunks, withRequisites, type StateResult } from "./run.js";
import type {
  ExecCaller,
  FileClient,
  HighData,
  LowChunk,
  StateContext,
  StateModule,
  TemplateRenderer,
} from "./types.js";

export type { StateExecFunction, StateJob } from "./queue.js";

/** What rendering an SLS needs (the contract's SlsEnv). */
export interface CompilerEnv {
  readonly files: FileClient;
  readonly saltenv: string;
  readonly id: string;
  readonly grains: Readonly<Record<string, unknown>>;
  readonly pillar: Readonly<Record<string, unknown>>;
  readonly opts: Readonly<Record<string, unknown>>;
  readonly exec: ExecCaller;
}

/** The compiler's functions (src/state/render.ts, compile.ts, top.ts). */
export interface StateCompiler {
  renderSls(mods: readonly string[], env: CompilerEnv): Promise<{ high: HighData; errors: string[] }>;
  compileHigh(high: HighData): { chunks: LowChunk[]; errors: string[] };
  /** The top file's states for this agent by saltenv (Salt's top_matches), or its errors. */
  topMatches(env: CompilerEnv): Promise<{ matches: Record<string, string[]>; errors: string[] }>;
}

/** What the state functions are given by the agent. */
export interface StateExecPorts {
  readonly id: string;
  readonly files: FileClient;
  readonly exec: ExecCaller;
  readonly render: TemplateRenderer;
  readonly serviceManager: ServiceManager;
  readonly emit: EventSink;
  readonly logger: Logger;
  readonly grains: () => Promise<Readonly<Record<string, unknown>>>;
  /** The agent's pillar (empty until pillar lands). */
  readonly pillar: () => Promise<Readonly<Record<string, unknown>>>;
  readonly compiler: StateCompiler;
  /** Default: builtinStateModules(). */
  readonly modules?: ReadonlyMap<string, StateModule>;
  /** Agent options Salt reads: `test`, `failhard`, `saltenv`, `state_queue`. */
  readonly opts?: Readonly<Record<string, unknown>>;
  readonly now?: () => number;
  /** The agent's process id, for the "already running" answer (default process.pid). */
  readonly pid?: number;
}

/** Salt's exit codes (salt/defaults/exitcodes.py). */
const EX_STATE_COMPILER_ERROR = 1;
const EX_STATE_FAILURE = 2;

/** The `state.*` functions, by full name. */
export function stateExecModule(ports: StateExecPorts): Readonly<Record<string, StateExecFunction>> {
  const modules = ports.modules ?? builtinStateModules();
  const lock = new RunLock(ports.pid ?? process.pid);
  const opts = ports.opts ?? {};

  const compilerEnv = async (
    kw: Record<string, unknown>,
    fun: string,
    saltenv: string,
  ): Promise<CompilerEnv> => ({
    files: ports.files,
    saltenv,
    id: ports.id,
    grains: await ports.grains(),
    pillar: mergePillar(await ports.pillar(), pillarOverride(kw, fun)),
    opts: { ...opts, test: testValue(kw, opts), saltenv },
    exec: ports.exec,
  });

  /** Renders and compiles the agent's highstate or `mods`, or gives the errors. */
  const compile = async (
    mods: string[] | undefined,
    kw: Record<string, unknown>,
    fun: string,
  ): Promise<
    { high: HighData; chunks: LowChunk[]; env: CompilerEnv } | { errors: string[] } | { noTop: true }
  > => {
    const saltenv =
      typeof kw.saltenv === "string" ? kw.saltenv : typeof opts.saltenv === "string" ? opts.saltenv : "base";
    const env = await compilerEnv(kw, fun, saltenv);
    let byEnv: Record<string, string[]>;
    if (mods) byEnv = { [saltenv]: mods };
    else {
      const top = await ports.compiler.topMatches(env);
      if (top.errors.length) return { errors: top.errors };
      byEnv = typeof kw.saltenv === "string" ? pick(top.matches, kw.saltenv) : top.matches;
      if (Object.values(byEnv).every((m) => m.length === 0)) return { noTop: true };
    }
    const high: HighData = {};
    const errors: string[] = [];
    for (const [e, m] of Object.entries(byEnv)) {
      const r = await ports.compiler.renderSls(m, { ...env, saltenv: e });
      errors.push(...r.errors);
      for (const [id, body] of Object.entries(r.high)) if (!(id in high)) high[id] = body;
    }
    if (errors.length) return { errors };
    const exclude = excludeList(kw.exclude);
    if (exclude.length) (high as Record<string, unknown>).__exclude__ = exclude;
    const compiled = ports.compiler.compileHigh(high);
    const errs = compiled.errors.length ? compiled.errors : requisiteInErrors(compiled.chunks);
    if (errs.length) return { errors: errs };
    return { high, chunks: compiled.chunks, env };
  };

  const stateContext = (env: CompilerEnv, test: boolean, job: StateJob): StateContext => ({
    test,
    id: ports.id,
    saltenv: env.saltenv,
    sls: "",
    stateId: "",
    grains: env.grains,
    pillar: env.pillar,
    logger: ports.logger,
    signal: job.signal,
    files: ports.files,
    exec: ports.exec,
    render: ports.render,
    serviceManager: ports.serviceManager,
    emit: ports.emit,
  });

  const run = async (
    mods: string[] | undefined,
    kw: Record<string, unknown>,
    job: StateJob,
    pick: (chunks: LowChunk[]) => LowChunk[] = (all) => all,
  ): Promise<unknown> => {
    const c = await compile(mods, kw, job.fun);
    if ("errors" in c) return fail(job, EX_STATE_COMPILER_ERROR, c.errors);
    if ("noTop" in c) {
      job.setRetcode(EX_STATE_FAILURE);
      return {
        "no_|-states_|-states_|-None": {
          result: false,
          comment: "No Top file or master_tops data matches found. Please see master log for details.",
          name: "No States",
          changes: {},
          __run_num__: 0,
        },
      };
    }
    const test = testValue(kw, opts);
    const results = await runChunks(pick(c.chunks), {
      modules,
      ctx: stateContext(c.env, test, job),
      test,
      failhard: bool(kw.failhard ?? opts.failhard),
      ...(ports.now ? { now: ports.now } : {}),
    });
    job.setRetcode(retcodeOf(results));
    return results;
  };

  const show = (what: "high" | "low", withMods: boolean): StateExecFunction =>
    lock.wrap(async (args, kw, job) => {
      const mods = withMods ? requireMods(args, kw, job.fun) : undefined;
      const c = await compile(mods, kw, job.fun);
      if ("errors" in c) return fail(job, EX_STATE_COMPILER_ERROR, c.errors);
      if ("noTop" in c) return what === "high" ? {} : [];
      return what === "high" ? c.high : c.chunks;
    });

  const sls: StateExecFunction = lock.wrap((args, kw, job) => run(requireMods(args, kw, job.fun), kw, job));
  const highstate: StateExecFunction = lock.wrap((_args, kw, job) => run(undefined, kw, job));
  const apply: StateExecFunction = lock.wrap((args, kw, job) => {
    const mods = splitInput(args[0] ?? kw.mods);
    return run(mods.length ? mods : undefined, kw, job);
  });

  return {
    "state.apply": apply,
    "state.sls": sls,
    "state.highstate": highstate,
    "state.test": (args, kw, job) => apply(args, { ...kw, test: true }, job),
    "state.single": lock.wrap((args, kw, job) =>
      single(args, kw, job, modules, ports, compilerEnv, stateContext),
    ),
    "state.running": () => Promise.resolve(lock.running()),
    "state.show_sls": show("high", true),
    "state.show_low_sls": show("low", true),
    "state.show_highstate": show("high", false),
    "state.show_lowstate": show("low", false),
    "state.sls_id": lock.wrap(async (args, kw, job) => {
      const id = String(args[0] ?? kw.id_ ?? kw.id ?? "");
      const mods = requireMods(args.slice(1), kw, job.fun);
      const saltenv = typeof kw.saltenv === "string" ? kw.saltenv : "base";
      return run(mods, kw, job, (chunks) => {
        const picked = withRequisites(chunks, new Set([id]), modules);
        if (!picked.some((c) => c.__id__ === id))
          throw new StateError(
            `No matches for ID '${id}' found in SLS '${mods.join(",")}' within saltenv '${saltenv}'`,
          );
        return picked;
      });
    }),
    "state.show_states": lock.wrap(async (_args, kw, job) => {
      const c = await compile(undefined, kw, job.fun);
      if ("errors" in c) return fail(job, EX_STATE_COMPILER_ERROR, c.errors);
      return "noTop" in c ? [] : [...new Set(c.chunks.map((x) => x.__sls__))];
    }),
    "state.sls_exists": lock.wrap(async (args, kw, job) => {
      const c = await compile(requireMods(args, kw, job.fun), kw, job.fun);
      return !("errors" in c);
    }),
    "state.id_exists": lock.wrap(async (args, kw, job) => {
      const ids = splitInput(args[0] ?? kw.ids);
      const c = await compile(requireMods(args.slice(1), kw, job.fun), kw, job.fun);
      if (!("chunks" in c)) return false;
      const have = new Set(c.chunks.map((x) => x.__id__));
      return ids.every((id) => have.has(id));
    }),
    "state.show_top": lock.wrap(async (_args, kw, job) => {
      const env = await compilerEnv(kw, job.fun, typeof kw.saltenv === "string" ? kw.saltenv : "base");
      const top = await ports.compiler.topMatches(env);
      return top.errors.length ? fail(job, EX_STATE_COMPILER_ERROR, top.errors) : top.matches;
    }),
  };
}

/** Salt's state.single: one state function called directly (no requisites), keyed by its tag. */
async function single(
  args: unknown[],
  kw: Record<string, unknown>,
  job: StateJob,
  modules: ReadonlyMap<string, StateModule>,
  ports: StateExecPorts,
  compilerEnv: (kw: Record<string, unknown>, fun: string, saltenv: string) => Promise<CompilerEnv>,
  stateContext: (env: CompilerEnv, test: boolean, job: StateJob) => StateContext,
): Promise<unknown> {
  const fun = String(args[0] ?? kw.fun ?? "");
  const name = args[1] ?? kw.name;
  const comps = fun.split(".");
  if (comps.length < 2) return fail(job, EX_STATE_COMPILER_ERROR, "Invalid function passed");
  if (typeof name !== "string" || name === "")
    throw new StateArgumentError("state.single", "name", "is required");
  const [state, f] = [comps[0]!, comps[1]!];
  if (!modules.get(state)?.functions[f])
    return fail(job, EX_STATE_COMPILER_ERROR, [`Specified state '${fun}' was not found`]);
  const saltenv = typeof kw.saltenv === "string" ? kw.saltenv : "base";
  const env = await compilerEnv(kw, job.fun, saltenv);
  const test = testValue(kw, ports.opts ?? {});
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kw)) if (!SINGLE_DROP.has(k) && !k.startsWith("__pub_")) data[k] = v;
  const low: LowChunk = { ...data, state, fun: f, name, __id__: name, __sls__: "", __env__: saltenv };
  const results = await runChunks([low], {
    modules,
    ctx: stateContext(env, test, job),
    test,
    ...(ports.now ? { now: ports.now } : {}),
  });
  job.setRetcode(retcodeOf(results));
  return results;
}

/** Keys of state.single's kwargs that are not the state's (Salt calls the function directly). */
const SINGLE_DROP = new Set([
  "fun",
  "test",
  "queue",
  "pillar",
  "pillar_enc",
  "saltenv",
  "concurrent",
  "require",
  "require_any",
  "watch",
  "watch_any",
  "onchanges",
  "onchanges_any",
  "onfail",
  "onfail_any",
  "onfail_all",
  "prereq",
  "listen",
  "use",
  "require_in",
  "watch_in",
  "onchanges_in",
  "onfail_in",
  "prereq_in",
  "listen_in",
  "use_in",
]);

/** Salt's _set_retcode: 2 when any state failed (state.check_result). */
function retcodeOf(results: Readonly<Record<string, StateResult>>): number {
  return Object.values(results).some((r) => r.result === false) ? EX_STATE_FAILURE : 0;
}

function fail<T>(job: StateJob, code: number, value: T): T {
  job.setRetcode(code);
  return value;
}
