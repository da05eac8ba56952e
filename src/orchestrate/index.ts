/**
 * Orchestration (`runner.state.orchestrate`, DESIGN.md 7): orchestration SLS -> steps -> the
 * requisite engine, through ports that apps/ wires to NATS.
 */
export { runOrchestration, compileOrchestration, runCompiled, slsName } from "./run.js";
export type { OrchestrationRequest, OrchestrationResult, CompiledOrchestration, MineHelper } from "./run.js";
export { parseOrchestration } from "./parse.js";
export { batchSize, DEFAULT_FUNCTION_TIMEOUT_MS } from "./function-step.js";
export { testOutcome } from "./steps.js";
export { MemoryRunStore } from "./ports.js";
export type { OrchestratePorts, FunctionCall, MinionReply, NoReply, CallReturn, SeenEvent, RunStore, RunSummary } from "./ports.js";
export type { StepSpec, FunctionStep, CallStep, WaitStep, TestStep, BatchSize } from "./spec.js";
export { formatOrchestration } from "./format.js";
export type { FormatOptions } from "./format.js";
