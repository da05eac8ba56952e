/**
 * executeRun: runs a plan as Salt's state engine does. Chunks run in plan order, each after the
 * chunks its requisites name; `parallel: True` chunks start and the run moves on, so independent
 * steps overlap while requisites still wait. A failing failhard chunk stops the run: nothing new
 * starts, running steps finish, the rest is reported in `notRun`.
 */
import { errorMessage } from "../errors.js";
import { checkRequisites, hasChanges, type RequisiteStatus } from "./status.js";
import type { Plan, RunOutcome, RunStep, StepOutcome, StepResult } from "./types.js";

/** Options of a run. */
export interface ExecuteOptions {
  /** Salt's test=True: passed to steps; failhard does not stop a test run. */
  readonly test?: boolean;
  /** Epoch milliseconds (default Date.now); for durations and start times. */
  readonly now?: () => number;
  /** Abandons the run: no new step starts, steps see the signal. */
  readonly signal?: AbortSignal;
}

const NOT_RUN_ONFAIL = "State was not run because onfail req did not change";
const NOT_RUN_ONCHANGES = "State was not run because none of the onchanges reqs changed";

/** Runs every chunk of `plan` with `runStep`; resolves with Salt-shaped results. */
export async function executeRun<P>(plan: Plan<P>, runStep: RunStep<P>, opts: ExecuteOptions = {}): Promise<RunOutcome> {
  const run = new Run(plan, runStep, opts);
  return run.all();
}

class Run<P> {
  private readonly results = new Map<number, StepResult>();
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly order: number[] = [];
  private runNum = 0;
  private failhardTag: string | undefined;
  private readonly now: () => number;
  private readonly signal: AbortSignal;

  constructor(
    private readonly plan: Plan<P>,
    private readonly runStep: RunStep<P>,
    private readonly opts: ExecuteOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.signal = opts.signal ?? new AbortController().signal;
  }

  private get stopped(): boolean {
    return this.failhardTag !== undefined || this.signal.aborted;
  }

  async all(): Promise<RunOutcome> {
    for (let i = 0; i < this.plan.chunks.length && !this.stopped; i++) await this.ensure(i, false);
    for (let size = -1; size !== this.inflight.size; ) {
      size = this.inflight.size;
      await Promise.all(this.inflight.values());
    }
    const results: Record<string, StepResult> = {};
    for (const i of this.order) results[this.plan.chunks[i]!.tag] = this.results.get(i)!;
    const notRun = this.plan.chunks.filter((_c, i) => !this.results.has(i)).map((c) => c.tag);
    return { results, notRun, ...(this.failhardTag !== undefined ? { failhardTag: this.failhardTag } : {}) };
  }

  /** Starts chunk `i` unless started; waits for it when `wait` or when it is not parallel. */
  private async ensure(i: number, wait: boolean): Promise<void> {
    let p = this.inflight.get(i);
    if (!p) {
      p = this.launch(i);
      this.inflight.set(i, p);
      if (this.plan.chunks[i]!.chunk.parallel === true && !wait) return;
    }
    await p;
  }

  private async launch(i: number): Promise<void> {
    for (const req of this.plan.chunks[i]!.requisites) {
      for (const t of req.targets) await this.ensure(t, true);
    }
    if (this.stopped) return;
    await this.execute(i);
  }

  private async execute(i: number): Promise<void> {
    const planned = this.plan.chunks[i]!;
    const status = checkRequisites(planned, (t) => this.results.get(t));
    const runNum = this.runNum++;
    const start = this.now();
    const outcome = await this.outcome(i, status);
    const duration = Math.round((this.now() - start) * 1000) / 1000;
    const c = planned.chunk;
    const result: StepResult = {
      ...(outcome.extra ?? {}),
      name: outcome.name ?? c.name,
      result: outcome.result,
      changes: outcome.changes,
      comment: outcome.comment,
      duration,
      start_time: startTime(start),
      __run_num__: runNum,
      __id__: c.id,
      __sls__: c.sls,
      ...(status === "onfail" || status === "onchanges" ? { __state_ran__: false } : {}),
    };
    this.results.set(i, result);
    this.order.push(i);
    const failhard = c.failhard ?? this.plan.failhard;
    if (failhard && result.result === false && this.opts.test !== true && this.failhardTag === undefined) this.failhardTag = planned.tag;
  }

  private async outcome(i: number, status: RequisiteStatus): Promise<StepOutcome> {
    switch (status) {
      case "fail":
        return { result: false, changes: {}, comment: `One or more requisite failed: ${this.failedRequisites(i).join(", ")}` };
      case "onfail":
        return { result: true, changes: {}, comment: NOT_RUN_ONFAIL };
      case "onchanges":
        return { result: true, changes: {}, comment: NOT_RUN_ONCHANGES };
      case "unmet":
        return { result: false, changes: {}, comment: "One or more requisite did not run" };
      case "change": {
        const first = await this.call(i, false);
        return hasChanges(first) ? first : this.call(i, true);
      }
      case "met":
        return this.call(i, false);
    }
  }

  private async call(i: number, modWatch: boolean): Promise<StepOutcome> {
    try {
      return await this.runStep(this.plan.chunks[i]!.chunk, { modWatch, test: this.opts.test === true, signal: this.signal });
    } catch (err) {
      return { result: false, changes: {}, comment: `An exception occurred in this state: ${errorMessage(err)}` };
    }
  }

  /** `sls.id` of every requisite that failed, as Salt lists them. */
  private failedRequisites(i: number): string[] {
    const out = new Set<string>();
    for (const req of this.plan.chunks[i]!.requisites) {
      for (const t of req.targets) {
        const c = this.plan.chunks[t]!.chunk;
        if (this.results.get(t)?.result === false) out.add(`${c.sls}.${c.id}`);
      }
    }
    return [...out];
  }
}

/** Salt's start_time: `HH:MM:SS.ffffff` (UTC here, so that runs compare across hosts). */
export function startTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const micros = Math.round((ms - Math.floor(ms)) * 1000);
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${p(micros, 3)}`;
}
