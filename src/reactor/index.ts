/** The reactor's pure engine: match -> render -> normalise, shared by `reactor test` and the live service. */
export { MapIndex } from "./matcher.js";
export type { MatchableEntry, MatchInput, NoMatch, MatchExplanation } from "./matcher.js";
export { normaliseSls, orderChunks } from "./normalise.js";
export type { LowChunk, NormaliseResult, ReactionProblem } from "./normalise.js";
export { renderReactions, renderSlsFile, filesOf } from "./render.js";
export type { MineLookup, RenderOptions, RenderResult } from "./render.js";
export { dryRun } from "./dry-run.js";
export type { DryRunMatch, DryRunNoMatch, DryRunOptions, DryRunReaction, DryRunRendered, DryRunResult } from "./dry-run.js";
export { ReactorEngine, engineConfig, BUS_INVALID_TAG, SECURITY_REJECTED_TAG } from "./engine.js";
export type { EngineDeps, EngineConfig, EngineCounters, Verdict, RawMessage } from "./engine.js";
export { dispatchReaction, DEFAULT_JOB_TIMEOUT_S } from "./dispatch.js";
export type { DispatchPorts, DispatchOutcome, ServiceFunction, ServiceCallContext } from "./dispatch.js";
export { ReactionLedger, deriveJid } from "./ledger.js";
export type { LedgerRecord } from "./ledger.js";
export { Throttler } from "./throttle.js";
export { FloodGate } from "./flood.js";
export type { FloodVerdict } from "./flood.js";
export { unquotedDataInCommands } from "./shell-lint.js";
