/**
 * The state runner (DESIGN.md 11.2): low chunks through the requisite engine of
 * `src/core/requisites`, each state function called as Salt's `State.call` does (onlyif, unless,
 * creates, check_cmd, retry, mod_watch), then the `listen` mod_watches at the end of the run.
 * Returns Salt's highstate return, keyed `<state>_|-<id>_|-<name>_|-<fun>`.
 */
import { errorMessage } from "../core/errors.js";
import {
  chunkTag,
  executeRun,
  hasChanges,
  planRun,
  type Chunk,
  type StepContext,
  type StepOutcome,
  type StepResult,
} from "../core/requisites/index.js";
import { pyResult, retrySettings, runCheck, runCheckCmd } from "./checks.js";
import { listeners } from "./listen.js";
import { applyUse, engineChunk, type LowStep } from "./low.js";
import type { LowChunk, StateContext, StateModule } from "./types.js";

/** What a run is given. */
export interface RunEnv {
  /** The state modules by name (`builtinStateModules()`). */
  readonly modules: ReadonlyMap<string, StateModule>;
  /** The base context; the runner sets `test`, `sls`, `stateId` and `saltenv` per chunk. */
  readonly ctx: StateContext;
  /** Salt's test=True (default: `ctx.test`). */
  readonly test?: boolean;
  /** Run-wide failhard (a chunk's own `failhard` wins); default false. */
  readonly failhard?: boolean;
  /** Epoch milliseconds, for start times and durations (default Date.now). */
  readonly now?: () => number;
  /** Waits between retries (default a timer that the run's signal cancels). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** One state's result (Salt's keys). */
export type StateResult = StepResult;

/** Runs `chunks` (as compiled: ordered, requisites under their Salt keys) and returns Salt's return. */
export async function runChunks(
  chunks: readonly LowChunk[],
  env: RunEnv,
): Promise<Record<string, StateResult>> {
  const test = env.test ?? env.ctx.test;
  const lows = applyUse(chunks);
  const plan = planRun(
    lows.map((l) => engineChunk(l, env.modules)),
    { failhard: env.failhard ?? false, missing: "report", prereq: true },
  );
  const step = stepRunner(env);
  const opts = { test, signal: env.ctx.signal, ...(env.now ? { now: env.now } : {}) };
  const main = await executeRun(plan, step, opts);
  const results: Record<string, StateResult> = { ...main.results };
  let runNum = Object.values(results).reduce((n, r) => Math.max(n, r.__run_num__ + 1), 0);
  const { watchers, errors } = listeners(lows, results, env.modules);
  if (watchers.length > 0 && !env.ctx.signal.aborted) {
    const listened = await executeRun(planRun(watchers), step, { ...opts, runNumStart: runNum });
    Object.assign(results, listened.results);
    runNum = Object.values(results).reduce((n, r) => Math.max(n, r.__run_num__ + 1), runNum);
  }
  for (const [tag, e] of Object.entries(errors)) results[tag] = { ...e, __run_num__: runNum++ };
  return results;
}

/**
 * The chunks with one of `ids` and every chunk they need first (their requisites, `_in` forms
 * included, transitively): what Salt's state.sls_id runs through call_chunk.
 */
export function withRequisites(
  chunks: readonly LowChunk[],
  ids: ReadonlySet<string>,
  modules: ReadonlyMap<string, StateModule>,
): LowChunk[] {
  const lows = applyUse(chunks);
  const plan = planRun(
    lows.map((l) => engineChunk(l, modules)),
    { missing: "report", prereq: true },
  );
  const keep = new Set<LowChunk>();
  const stack = plan.chunks.filter((c) => ids.has(c.chunk.id));
  for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
    if (keep.has(c.chunk.payload.low)) continue;
    keep.add(c.chunk.payload.low);
    for (const req of c.requisites) for (const t of req.targets) stack.push(plan.chunks[t]!);
  }
  return chunks.filter((_c, i) => keep.has(lows[i]!));
}

/** The engine's RunStep for state chunks: Salt's `State.call`. */
function stepRunner(env: RunEnv): (chunk: Chunk<LowStep>, sctx: StepContext) => Promise<StepOutcome> {
  const first = new Map<Chunk<LowStep>, StepOutcome>();
  const sleep = env.sleep ?? abortableSleep;
  return async (chunk, sctx) => {
    const { low, module, invalid } = chunk.payload;
    if (invalid) return { result: false, changes: {}, comment: invalid };
    const watch = sctx.modWatch || chunk.payload.listener === true;
    // Salt turns a watch into a require when the module has no mod_watch: the first call stands.
    if (sctx.modWatch && !module?.modWatch) return first.get(chunk)!;
    const fn = watch ? module?.modWatch : module?.functions[low.fun];
    const fname = watch ? "mod_watch" : low.fun;
    if (!fn)
      return {
        result: false,
        changes: {},
        comment: `State '${low.state}.${fname}' was not found in SLS '${low.__sls__}'\n`,
      };
    const ctx: StateContext = {
      ...env.ctx,
      test: sctx.test,
      sls: low.__sls__,
      stateId: low.__id__,
      saltenv: low.__env__ || env.ctx.saltenv,
    };
    const args = watch
      ? {
          ...chunk.payload.args,
          sfun: low.sfun ?? low.fun,
          __reqs__: (sctx.watched ?? []).map((c) => ({ state: c.state, __id__: c.id, name: c.name })),
        }
      : chunk.payload.args;
    const once = async (): Promise<StepOutcome> => {
      const check = await runCheck(low, ctx);
      let out: StepOutcome = check?.skip
        ? { result: true, changes: {}, comment: check.comment, skipWatch: true, extra: { skip_watch: true } }
        : await Promise.resolve()
            .then(() => fn(args, ctx))
            .catch((err: unknown) => ({
              result: false,
              changes: {},
              comment: `An exception occurred in this state: ${errorMessage(err)}`,
            }));
      if (low.check_cmd !== undefined) out = { ...out, ...(await runCheckCmd(low, ctx)) };
      return out;
    };
    let out = await once();
    if (low.retry !== undefined && low.parallel === undefined) out = await retry(low, out, once, sctx, sleep);
    if (low.reload_modules === true && hasChanges(out) && !sctx.test)
      ctx.logger.info(
        { state: chunkTag(chunk) },
        "reload_modules: the agent's modules are loaded per call, nothing to reload",
      );
    // Salt marks the results of parallel states (its outputter counts their longest duration).
    if (low.parallel === true) out = { ...out, extra: { ...out.extra, __parallel__: true } };
    if (!sctx.modWatch) first.set(chunk, out);
    return out;
  };
}

/** Salt's retry: re-run until the result is `until`, `attempts` times at most, `interval`(+splay) seconds apart. */
async function retry(
  low: LowChunk,
  firstOut: StepOutcome,
  once: () => Promise<StepOutcome>,
  sctx: StepContext,
  sleep: (ms: number, signal: AbortSignal) => Promise<void>,
): Promise<StepOutcome> {
  const r = retrySettings(low.retry);
  if (sctx.test) {
    const would = `The state would be retried every ${r.interval} seconds (with a splay of up to ${r.splay} seconds) a maximum of ${r.attempts} times or until a result of ${pyResult(r.until)} is returned`;
    return { ...firstOut, comment: [firstOut.comment, would].join("  ") };
  }
  const lines: string[] = [];
  let out = firstOut;
  for (let attempt = 1; out.result !== r.until && attempt < r.attempts && !sctx.signal.aborted; attempt++) {
    lines.push(
      `Attempt ${attempt}: Returned a result of "${pyResult(out.result)}", with the following comment: "${out.comment}"`,
    );
    await sleep(
      (r.interval + (r.splay > 0 ? Math.floor(Math.random() * (r.splay + 1)) : 0)) * 1000,
      sctx.signal,
    );
    out = await once();
  }
  return lines.length === 0 ? out : { ...out, comment: [...lines, out.comment].join("\n") };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
