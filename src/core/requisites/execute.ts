/**
 * executeRun: runs a plan as Salt's state engine does. Chunks run in plan order, each after the
 * chunks its requisites name; `parallel: True` chunks start and the run moves on, so independent
 * steps overlap while requisites still wait. A failing failhard chunk stops the run: nothing new
 * starts, running steps finish, the rest is reported in `notRun`.
 */
import { errorMessage } from "../errors.js";
import { checkRequisites, hasChanges, type RequisiteStatus } from "./status.js";
import type { Chunk, Plan, PlannedChunk, RequisiteRef, RunOutcome, RunStep, StepOutcome, StepResult } from "./types.js";

/** Options of a run. */
export interface ExecuteOptions {
  /** Salt's test=True: passed to steps; failhard does not stop a test run. */
  readonly test?: boolean;
  /** Epoch milliseconds (default Date.now); for durations and start times. */
  readonly now?: () => number;
  /** Abandons the run: no new step starts, steps see the signal. */
  readonly signal?: AbortSignal;
  /** The first `__run_num__` (default 0; Salt's listen runs continue the numbering). */
  readonly runNumStart?: number;
}

const NOT_RUN_ONFAIL = "State was not run because onfail req did not change";
const NOT_RUN_ONCHANGES = "State was not run because none of the onchanges reqs changed";
const PAD_KIND = " ".repeat(19);
const PAD_REF = " ".repeat(23);

/** Runs every chunk of `plan` with `runStep`; resolves with Salt-shaped results. */
export async function executeRun<P>(plan: Plan<P>, runStep: RunStep<P>, opts: ExecuteOptions = {}): Promise<RunOutcome> {
  const run = new Run(plan, runStep, opts);
  return run.all();
}

class Run<P> {
  private readonly results = new Map<number, StepResult>();
  private readonly inflight = new Map<number, Promise<void>>();
  /** Salt's `self.pre`: results of the test-mode looks that prereqs take. */
  private readonly pre = new Map<number, StepResult>();
  private readonly preInflight = new Map<number, Promise<void>>();
  /** What each running task (`run:i`, `look:i`) waits for now, to see loops before waiting. */
  private readonly waits = new Map<string, Set<string>>();
  /** Chunks whose mod_watch was called (they take a second `__run_num__`, as in Salt). */
  private readonly modWatched = new Set<number>();
  private readonly order: number[] = [];
  private runNum: number;
  private failhardTag: string | undefined;
  private readonly now: () => number;
  private readonly signal: AbortSignal;

  constructor(
    private readonly plan: Plan<P>,
    private readonly runStep: RunStep<P>,
    private readonly opts: ExecuteOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.runNum = opts.runNumStart ?? 0;
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
    const p = this.started(i);
    if (this.plan.chunks[i]!.chunk.parallel === true && !wait) return;
    await p;
  }

  /** The run of chunk `i`, started on first use (a microtask later, so that it is registered first). */
  private started(i: number): Promise<void> {
    let p = this.inflight.get(i);
    if (!p) {
      p = Promise.resolve().then(() => this.launch(i));
      this.inflight.set(i, p);
    }
    return p;
  }

  private async launch(i: number): Promise<void> {
    await this.dependencies(i, true, `run:${i}`);
    if (this.stopped || this.results.has(i)) return;
    await this.execute(i);
  }

  /** Runs what chunk `i` waits for: its requisites, and the test-mode look of its prereqs. */
  private async dependencies(i: number, withPrerequired: boolean, from: string): Promise<void> {
    for (const req of this.plan.chunks[i]!.requisites) {
      if (req.kind === "prerequired" && !withPrerequired) continue;
      for (const t of req.targets) {
        if (req.kind === "prereq") await this.waitFor(from, `look:${t}`, () => this.look(t));
        else await this.waitFor(from, `run:${t}`, () => this.started(t));
      }
    }
  }

  /**
   * Waits for `to` unless `to` already waits (transitively) for `from`: prereq looks and their
   * reverse edges can close a loop that the plan's cycle check cannot see (Salt's call_chunk
   * recursion); the waiter then goes on without that result instead of hanging.
   */
  private async waitFor(from: string, to: string, start: () => Promise<void>): Promise<void> {
    if (this.reaches(to, from)) return;
    const edges = this.waits.get(from) ?? new Set<string>();
    this.waits.set(from, edges);
    edges.add(to);
    try {
      await start();
    } finally {
      edges.delete(to);
    }
  }

  private reaches(from: string, target: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
      if (k === target) return true;
      if (seen.has(k)) continue;
      seen.add(k);
      for (const n of this.waits.get(k) ?? []) stack.push(n);
    }
    return false;
  }

  /** Salt's `__prereq__` call: chunk `t`, after its own requisites, in test mode, kept in `pre`. */
  private look(t: number): Promise<void> {
    let p = this.preInflight.get(t);
    if (!p) {
      p = Promise.resolve().then(() => this.lookNow(t));
      this.preInflight.set(t, p);
    }
    return p;
  }

  private async lookNow(t: number): Promise<void> {
    await this.dependencies(t, false, `look:${t}`);
    if (this.stopped || this.results.has(t)) return;
    const planned = this.plan.chunks[t]!;
    let status = planned.lost || planned.recursive ? "fail" : checkRequisites(planned, (x) => this.results.get(x), (x) => this.pre.get(x), false);
    // A requisite that could not be waited for (see waitFor): the look goes ahead in test mode.
    if (status === "unmet") status = "met";
    if (status !== "met" && status !== "change") {
      // A failed or skipped requisite: the chunk's result is final (Salt records it in both).
      await this.execute(t, false);
      this.pre.set(t, this.results.get(t)!);
      return;
    }
    const start = this.now();
    let outcome = await this.call(t, false, true);
    if (status === "change" && !hasChanges(outcome)) outcome = { ...outcome, result: null, changes: { watch: "watch" } };
    this.pre.set(t, this.resultOf(planned, outcome, start, -1, status));
  }

  private async execute(i: number, withPrerequired = true): Promise<void> {
    const planned = this.plan.chunks[i]!;
    const status = checkRequisites(planned, (t) => this.results.get(t), (t) => this.pre.get(t), withPrerequired);
    let runNum = this.runNum++;
    const start = this.now();
    const outcome = await this.outcome(i, status);
    // Salt numbers every call: a mod_watch after the state's own call takes the next number.
    if (this.modWatched.delete(i)) runNum = this.runNum++;
    const result = this.resultOf(planned, outcome, start, runNum, status);
    this.results.set(i, result);
    this.order.push(i);
    const failhard = planned.chunk.failhard ?? this.plan.failhard;
    if (failhard && result.result === false && this.opts.test !== true && this.failhardTag === undefined) this.failhardTag = planned.tag;
  }

  private resultOf(planned: PlannedChunk<P>, outcome: StepOutcome, start: number, runNum: number, status: RequisiteStatus): StepResult {
    const duration = Math.round((this.now() - start) * 1000) / 1000;
    const c = planned.chunk;
    return {
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
  }

  private async outcome(i: number, status: RequisiteStatus): Promise<StepOutcome> {
    const planned = this.plan.chunks[i]!;
    if (planned.lost) return { result: false, changes: {}, comment: notFound(planned.lost) };
    if (planned.recursive) return { result: false, changes: {}, comment: "Recursive requisite found" };
    switch (status) {
      case "fail": {
        // Salt: a chunk that was looked at for a prereq and whose prerequired chunk failed keeps
        // that look's result without its (proposed) changes.
        const looked = this.pre.get(i);
        if (looked) return { result: looked.result, changes: {}, comment: looked.comment };
        return { result: false, changes: {}, comment: `One or more requisite failed: ${this.failedRequisites(i).join(", ")}` };
      }
      case "pre":
        return { result: true, changes: {}, comment: "No changes detected" };
      case "onfail":
        return { result: true, changes: {}, comment: NOT_RUN_ONFAIL };
      case "onchanges":
        return { result: true, changes: {}, comment: NOT_RUN_ONCHANGES };
      case "unmet":
        return { result: false, changes: {}, comment: "One or more requisite did not run" };
      case "change": {
        const first = await this.call(i, false);
        if (hasChanges(first) || first.skipWatch === true) return first;
        this.modWatched.add(i);
        return this.call(i, true, false, this.watched(i));
      }
      case "met":
        return this.call(i, false);
    }
  }

  /** The chunks named by `watch` requisites of chunk `i` that reported changes. */
  private watched(i: number): Chunk<P>[] {
    const out: Chunk<P>[] = [];
    for (const req of this.plan.chunks[i]!.requisites) {
      if (!req.kind.startsWith("watch")) continue;
      for (const t of req.targets) {
        const r = this.results.get(t);
        if (r && hasChanges(r)) out.push(this.plan.chunks[t]!.chunk);
      }
    }
    return out;
  }

  private async call(i: number, modWatch: boolean, prereq = false, watched?: Chunk<P>[]): Promise<StepOutcome> {
    try {
      const test = prereq || this.opts.test === true;
      return await this.runStep(this.plan.chunks[i]!.chunk, { modWatch, test, signal: this.signal, ...(prereq ? { prereq } : {}), ...(watched ? { watched } : {}) });
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
        if ((this.pre.get(t) ?? this.results.get(t))?.result === false) out.add(`${c.sls}.${c.id}`);
      }
    }
    return [...out];
  }
}

/** Salt's comment for requisites that name no chunk. */
function notFound(lost: Readonly<Record<string, readonly RequisiteRef[]>>): string {
  let comment = "The following requisites were not found:\n";
  for (const [kind, refs] of Object.entries(lost)) {
    comment += `${PAD_KIND}${kind}:\n`;
    for (const r of refs) comment += `${PAD_REF}${r.key}: ${r.value}\n`;
  }
  return comment;
}

/** Salt's start_time: `HH:MM:SS.ffffff` (UTC here, so that runs compare across hosts). */
export function startTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const micros = Math.round((ms - Math.floor(ms)) * 1000);
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${p(micros, 3)}`;
}
