/** The state system: render SLS files, compile high data to low chunks, run them (DESIGN.md 11). */
export { localFileClient, saltPath, saltUrlEnv } from "./files.js";
export type { FileRoots } from "./files.js";
export { builtinStateModules, checkApply } from "./modules/index.js";
export { runChunks } from "./run.js";
export { requisiteInErrors } from "./low.js";
export type { RunEnv, StateResult } from "./run.js";
export { formatHighstate } from "./outputter.js";
export { stateExecModule } from "./exec.js";
export { jidToTime } from "./queue.js";
export type { CompilerEnv, StateCompiler, StateExecFunction, StateExecPorts, StateJob } from "./exec.js";
export type { HighstateOutputOptions } from "./outputter.js";
export type { Check, CheckApplySpec } from "./modules/index.js";
export type {
  ExecCaller,
  FileClient,
  HighData,
  HighState,
  LowChunk,
  StateArgs,
  StateContext,
  StateFunction,
  StateModule,
  StateReturn,
  TemplateRenderer,
} from "./types.js";
export { stateCompiler } from "./compiler.js";
export { renderSls, renderStateFile } from "./render.js";
export { compileHigh } from "./compile.js";
export { mergedTop, topMatches } from "./top.js";
export type { TopData } from "./top.js";
export { deepMerge, filterBy, traverse } from "./salt-context.js";
