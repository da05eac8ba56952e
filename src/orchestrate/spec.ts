/** What each orchestration step does, after parsing and validation. */
import type { TargetType } from "../core/reaction.js";

/** `batch: N` or `batch: N%`. */
export type BatchSize = { readonly count: number } | { readonly percent: number };

/** `salt.function`: run a function on agents. */
export interface FunctionStep {
  readonly kind: "function";
  readonly fun: string;
  readonly tgt: string | readonly string[];
  readonly tgtType: TargetType;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** Milliseconds to wait for returns (`timeout:` is in seconds). */
  readonly timeoutMs?: number;
  /** Targets that did not answer or are not connected fail the step (Salt's expect_minions). */
  readonly expectMinions: boolean;
  /** Agents whose failure does not fail the step. */
  readonly failMinions: readonly string[];
  readonly batch?: BatchSize;
  /** Keep going after a failed batch (default: stop at the first failed batch). */
  readonly batchFailOk: boolean;
}

/** `salt.wheel` / `salt.runner`: a function on the service. */
export interface CallStep {
  readonly kind: "wheel" | "runner";
  readonly fun: string;
  readonly kwarg: Readonly<Record<string, unknown>>;
}

/** `salt.wait_for_event`: wait until an event from each id in `idList` is seen. */
export interface WaitStep {
  readonly kind: "wait_for_event";
  readonly tag: string;
  readonly idList: readonly string[];
  readonly eventId: string;
  readonly timeoutMs: number;
}

/** `test.*` states. */
export interface TestStep {
  readonly kind: "test";
  readonly fun: "nop" | "succeed_without_changes" | "succeed_with_changes" | "fail_without_changes" | "fail_with_changes" | "configurable_test_state";
  readonly changes: boolean;
  readonly result: boolean;
  readonly comment?: string;
  readonly warnings?: readonly string[];
}

/** One step's action. */
export type StepSpec = FunctionStep | CallStep | WaitStep | TestStep;

/** The test functions and what they return by default. */
export const TEST_FUNCTIONS: Readonly<Record<TestStep["fun"], { changes: boolean; result: boolean }>> = {
  nop: { changes: false, result: true },
  succeed_without_changes: { changes: false, result: true },
  succeed_with_changes: { changes: true, result: true },
  fail_without_changes: { changes: false, result: false },
  fail_with_changes: { changes: true, result: false },
  configurable_test_state: { changes: true, result: true },
};
