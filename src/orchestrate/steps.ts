/** Runs one orchestration step: salt.function / wheel / runner / wait_for_event and test states. */
import { compileTagGlob } from "../core/glob/index.js";
import type { Chunk, RunStep, StepContext, StepOutcome } from "../core/requisites/index.js";
import { runFunctionStep } from "./function-step.js";
import type { OrchestratePorts, SeenEvent } from "./ports.js";
import type { CallStep, StepSpec, TestStep, WaitStep } from "./spec.js";
import { isMap } from "../core/index.js";

const TEST_CHANGES = { testing: { old: "Unchanged", new: "Something pretended to change" } };

/** The step function the requisite engine calls for an orchestration. */
export function stepRunner(ports: OrchestratePorts, newJid: () => string): RunStep<StepSpec> {
  return (chunk: Chunk<StepSpec>, ctx: StepContext): Promise<StepOutcome> => {
    const step = chunk.payload;
    switch (step.kind) {
      case "function":
        return runFunctionStep(step, ports, ctx.test, newJid, ctx.signal);
      case "wheel":
      case "runner":
        return runCall(step, ports, ctx.test);
      case "wait_for_event":
        return waitForEvent(step, ports, ctx);
      case "test":
        return Promise.resolve(ctx.modWatch ? { result: true, changes: { "Requisites with changes": [] }, comment: "Watch statement fired." } : testOutcome(step, ctx.test));
    }
  };
}

async function runCall(step: CallStep, ports: OrchestratePorts, test: boolean): Promise<StepOutcome> {
  const label = step.kind === "wheel" ? "Wheel" : "Runner";
  if (test) return { result: null, changes: {}, comment: `${label} function '${step.fun}' would be executed.` };
  const out = step.kind === "wheel" ? await ports.runWheel(step.fun, step.kwarg) : await ports.runRunner(step.fun, step.kwarg);
  const ret = out.return;
  const success = out.success && !(isMap(ret) && "Error" in ret);
  return { result: success, changes: { return: ret }, comment: `${label} function '${step.fun}' ${success ? "executed" : "failed"}.` };
}

/** Salt's wait_for_event: each id of `id_list` must be seen under `event_id` (or data.data.event_id). */
async function waitForEvent(step: WaitStep, ports: OrchestratePorts, ctx: StepContext): Promise<StepOutcome> {
  if (ctx.test) return { result: null, changes: {}, comment: `Orchestration would wait for event '${step.tag}'` };
  const start = ports.now();
  const pending = [...step.idList];
  const seen: string[] = [];
  const glob = compileTagGlob(step.tag);
  const predicate = (e: SeenEvent): boolean => {
    if (!glob.test(e.tag)) return false;
    if (pending.length === 0) return true;
    const inner = e.data["data"];
    const val = e.data[step.eventId] ?? (isMap(inner) ? inner[step.eventId] : undefined);
    const at = typeof val === "string" ? pending.indexOf(val) : -1;
    if (at >= 0) {
      pending.splice(at, 1);
      seen.push(val as string);
    }
    return pending.length === 0;
  };
  const event = await ports.waitForEvent(step.tag, predicate, step.timeoutMs, ctx.signal);
  const changes = seen.length > 0 ? { minions_seen: seen } : {};
  if (!event) {
    const left = pending.length > 0 ? ` Not seen: ${pending.join(", ")}.` : "";
    return { result: false, changes, comment: `Timeout value reached.${left}` };
  }
  return { result: true, changes, comment: `All events seen in ${((ports.now() - start) / 1000).toFixed(3)} seconds.` };
}

/** Salt's test states, in both modes. */
export function testOutcome(step: TestStep, test: boolean): StepOutcome {
  const changes = step.changes ? TEST_CHANGES : {};
  const warnings = step.warnings ? { extra: { warnings: step.warnings } } : {};
  if (test) {
    if (step.fun === "configurable_test_state") return { result: step.changes ? null : true, changes, comment: step.comment ?? "This is a test", ...warnings };
    if (step.fun === "fail_without_changes") return { result: false, changes, comment: "If we weren't testing, this would be a failure!" };
    if (step.changes) return { result: null, changes, comment: step.result ? "If we weren't testing, this would be successful with changes" : "If we weren't testing, this would be failed with changes" };
  }
  const comment = step.comment ?? (step.fun === "configurable_test_state" ? "" : step.result ? "Success!" : "Failure!");
  return { result: step.result, changes, comment, ...warnings };
}

