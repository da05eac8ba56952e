/** The agent's execution side: config-driven service managers, execution modules, executor, job ledger, identity. */
export { createExecutor, jobReturn } from "./executor.js";
export type { Executor, ExecutorOptions } from "./executor.js";
export { JobLedger, INTERRUPTED_MESSAGE } from "./job-ledger.js";
export type { JobLedgerOptions, JobRecord } from "./job-ledger.js";
export { loadOrCreateIdentity, IDENTITY_FILE } from "./identity.js";
export type { AgentIdentity } from "./identity.js";
export { runProcess, killGroup } from "./process.js";
export type { RunOptions, RunResult } from "./process.js";
export { shellSplit } from "./shell-split.js";
export * from "./modules/index.js";
export * from "./service-manager/index.js";
export { authenticate, pause, SERVICE_KEY_FILE } from "./auth-client.js";
export type { AuthClientOptions, AuthSession } from "./auth-client.js";
