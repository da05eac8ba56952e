/**
 * The ports of orchestration: what a run needs from the outside world. apps/ wires NATS-backed
 * implementations; tests pass in-memory ones.
 */
import type { JobReturn } from "../core/job.js";
import type { TargetType } from "../core/reaction.js";
import type { StepResult } from "../core/requisites/index.js";

/** One call of a function on agents. */
export interface FunctionCall {
  /** Resolved agent ids (one batch when the step has `batch`). */
  readonly targets: readonly string[];
  /** `module.function`. */
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** How long to wait for the returns. */
  readonly timeoutMs: number;
  /** The job id to use (one per call). */
  readonly jid: string;
  /** The step's target expression, for the job event. */
  readonly tgt: string | readonly string[];
  readonly tgtType: TargetType;
  /** Stops waiting for returns (the run is abandoned); agents that have not answered count as not returned. */
  readonly signal?: AbortSignal;
}

/** An agent that did not answer before the timeout. */
export interface NoReply {
  readonly timeout: true;
}

/** An agent's reply: its job return, or a timeout. A target missing from the map counts as a timeout. */
export type MinionReply = JobReturn | NoReply;

/** What a runner or wheel function gave back. */
export interface CallReturn {
  readonly return: unknown;
  readonly success: boolean;
}

/** An event seen by `salt.wait_for_event`. */
export interface SeenEvent {
  readonly tag: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A recorded run, for `reactor orchestrate status JID`. */
export interface RunSummary {
  readonly jid: string;
  readonly file: string;
  readonly sls: string;
  readonly dryRun: boolean;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly retcode: number;
  /** Results by state tag, Salt's shape. */
  readonly results: Readonly<Record<string, StepResult>>;
  /** Tags of steps that did not run because a failhard step failed. */
  readonly notRun: readonly string[];
}

/** Where runs are recorded. */
export interface RunStore {
  save(jid: string, summary: RunSummary): Promise<void>;
  get(jid: string): Promise<RunSummary | undefined>;
}

/** Everything a run needs. */
export interface OrchestratePorts {
  /** The agent ids a target selects (accepted agents only). */
  resolveTargets(tgt: string | readonly string[], tgtType: TargetType): Promise<string[]>;
  /** Runs a function on agents and gathers the replies (a key per target). */
  runFunction(call: FunctionCall): Promise<Record<string, MinionReply>>;
  runWheel(fun: string, kwarg: Readonly<Record<string, unknown>>): Promise<CallReturn>;
  runRunner(fun: string, kwarg: Readonly<Record<string, unknown>>): Promise<CallReturn>;
  /**
   * Resolves with the first event whose tag matches `tagGlob` (Salt's fnmatch) and for which
   * `predicate` holds, or undefined when `timeoutMs` passes or `signal` aborts.
   */
  waitForEvent(tagGlob: string, predicate: (event: SeenEvent) => boolean, timeoutMs: number, signal: AbortSignal): Promise<SeenEvent | undefined>;
  /** Publishes an event (`salt/run/<jid>/...`). */
  emit(tag: string, data: Record<string, unknown>): Promise<void>;
  /** Epoch milliseconds. */
  now(): number;
  /** A new job id (default: core's newJid over `now`). */
  newJid?(): string;
  readonly runs: RunStore;
}

/** A RunStore in memory (tests, dry runs without NATS). */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, RunSummary>();

  save(jid: string, summary: RunSummary): Promise<void> {
    this.runs.set(jid, summary);
    return Promise.resolve();
  }

  get(jid: string): Promise<RunSummary | undefined> {
    return Promise.resolve(this.runs.get(jid));
  }
}
