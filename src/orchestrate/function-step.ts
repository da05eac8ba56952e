/**
 * `salt.function`, as Salt's saltmod.function reports it: changes `{ret: {minion: return}}`,
 * "Function ran successfully." or "Running function X failed on minions: ...". With `batch`, the
 * targets run N at a time and the step stops at the first failed batch (unless `batch_fail_ok`).
 * An agent that never answers fails the step, named, with Salt's "Minion did not return".
 */
import { describeTarget } from "../core/targeting/index.js";
import type { StepOutcome } from "../core/requisites/index.js";
import type { OrchestratePorts, MinionReply } from "./ports.js";
import type { BatchSize, FunctionStep } from "./spec.js";

/** Default wait for returns when a step sets no `timeout`. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 60_000;
const NO_RESPONSE = "Minion did not return. [No response]";
const NOT_CONNECTED = "Minion did not return. [Not connected]";

interface Tally {
  readonly changes: Record<string, unknown>;
  readonly failed: Set<string>;
  readonly jids: string[];
}

/** Runs (or, in test mode, describes) a salt.function step. */
export async function runFunctionStep(step: FunctionStep, ports: OrchestratePorts, test: boolean, newJid: () => string, signal?: AbortSignal): Promise<StepOutcome> {
  const targets = await resolve(step, ports, test);
  if (test) return { result: null, changes: {}, comment: wouldRun(step, targets) };
  const missing = step.tgtType === "list" ? listed(step.tgt).filter((id) => !targets.includes(id)) : [];
  if (targets.length === 0) {
    if (step.expectMinions && missing.length > 0) return { result: false, changes: { ret: Object.fromEntries(missing.map((m) => [m, NOT_CONNECTED])) }, comment: failedOn(step, missing) };
    return { result: false, changes: {}, comment: "No minions responded" };
  }
  const tally: Tally = { changes: {}, failed: new Set(), jids: [] };
  const batches = split(targets, step.batch);
  let stoppedAfter: number | undefined;
  for (const [n, batch] of batches.entries()) {
    const jid = newJid();
    tally.jids.push(jid);
    const replies = await ports.runFunction({ targets: batch, fun: step.fun, arg: step.arg, kwarg: step.kwarg, timeoutMs: step.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS, jid, tgt: step.tgt, tgtType: step.tgtType, ...(signal ? { signal } : {}) });
    const before = tally.failed.size;
    for (const id of batch) record(tally, id, replies[id], step);
    if (step.batch && tally.failed.size > before && !step.batchFailOk && n < batches.length - 1) {
      stoppedAfter = n;
      break;
    }
  }
  if (step.expectMinions) for (const m of missing) record(tally, m, undefined, step, NOT_CONNECTED);
  return outcome(step, tally, stoppedAfter === undefined ? [] : batches.slice(stoppedAfter + 1).flat());
}

async function resolve(step: FunctionStep, ports: OrchestratePorts, test: boolean): Promise<string[]> {
  if (test && step.tgtType === "list") return listed(step.tgt);
  return ports.resolveTargets(step.tgt, step.tgtType);
}

function record(tally: Tally, id: string, reply: MinionReply | undefined, step: FunctionStep, absent = NO_RESPONSE): void {
  const tolerated = step.failMinions.includes(id);
  if (reply === undefined || "timeout" in reply) {
    tally.changes[id] = absent;
    if (!tolerated) tally.failed.add(id);
    return;
  }
  tally.changes[id] = reply.return;
  const ok = reply.success && reply.retcode === 0 && reply.return !== false;
  if (!ok && !tolerated) tally.failed.add(id);
}

function outcome(step: FunctionStep, tally: Tally, skipped: readonly string[]): StepOutcome {
  const ran = Object.keys(tally.changes);
  let comment = tally.failed.size > 0 ? failedOn(step, [...tally.failed]) : "Function ran successfully.";
  if (ran.length > 0) comment += ` Function ${step.fun} ran on ${ran.join(", ")}.`;
  if (skipped.length > 0) comment += ` Stopped after a failed batch; not run on ${skipped.join(", ")}.`;
  const jid = tally.jids[0];
  return {
    result: tally.failed.size === 0,
    changes: ran.length > 0 ? { ret: tally.changes } : {},
    comment,
    extra: { ...(jid !== undefined ? { __jid__: jid } : {}), ...(tally.jids.length > 1 ? { __jids__: tally.jids } : {}) },
  };
}

function failedOn(step: FunctionStep, ids: readonly string[]): string {
  return `Running function ${step.fun} failed on minions: ${[...ids].sort().join(", ")}`;
}

function wouldRun(step: FunctionStep, targets: readonly string[]): string {
  const on = targets.length > 0 ? targets.join(", ") : `no minions (target ${describeTarget(step.tgt, step.tgtType)})`;
  const size = step.batch ? batchSize(targets.length, step.batch) : 0;
  return `Function ${step.fun} would be executed on targets ${on}` + (step.batch ? ` in batches of ${size}` : "");
}

/** Salt's get_bnum: a count, or a percentage of the targets (at least one). */
export function batchSize(total: number, batch: BatchSize): number {
  if ("count" in batch) return batch.count;
  const n = (batch.percent / 100) * total;
  return n < 1 ? Math.ceil(n) : Math.floor(n);
}

function split(targets: readonly string[], batch: BatchSize | undefined): string[][] {
  if (!batch) return [[...targets]];
  const size = Math.max(1, batchSize(targets.length, batch));
  const out: string[][] = [];
  for (let i = 0; i < targets.length; i += size) out.push(targets.slice(i, i + size));
  return out;
}

function listed(tgt: string | readonly string[]): string[] {
  return (typeof tgt === "string" ? tgt.split(",") : [...tgt]).map((s) => s.trim()).filter(Boolean);
}
