/**
 * The requisite engine: Salt's requisites (require, watch, onfail, onchanges, their `_any`/`_all`
 * and `_in` forms), order, failhard and parallel over steps of any kind. Pure: orchestration uses
 * it today, a state system on agents will reuse it.
 */
export { planRun, orderChunks } from "./plan.js";
export type { PlanOptions } from "./plan.js";
export { executeRun, startTime } from "./execute.js";
export type { ExecuteOptions } from "./execute.js";
export { checkRequisites, hasChanges } from "./status.js";
export type { RequisiteStatus } from "./status.js";
export { parseRequisiteRefs, formatRef, chunkTag } from "./refs.js";
export { REQUISITE_KINDS, REQUISITE_IN_KINDS } from "./types.js";
export type {
  Chunk,
  ChunkOrder,
  Plan,
  PlannedChunk,
  RequisiteKind,
  RequisiteInKind,
  RequisiteRef,
  ResolvedRequisite,
  RunOutcome,
  RunStep,
  StepContext,
  StepOutcome,
  StepResult,
} from "./types.js";
