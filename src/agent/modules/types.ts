/** The shape of execution modules: functions called with Salt's (args, kwargs) and a context. */
import type { AgentConfig } from "../../config/index.js";
import type { EventSink, FileClient, JobRequest, Logger, ServiceManager } from "../../core/index.js";

/** What a module function gets besides its arguments. */
export interface ModuleContext {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Publishes events (event.send). */
  readonly emit: EventSink;
  readonly serviceManager: ServiceManager;
  /** `salt://` files (cp.*, states): the file server's store, or `file_roots` with `file_client: local`. */
  readonly files?: FileClient;
  /** Aborts when the job times out; child processes are killed on abort. */
  readonly signal: AbortSignal;
  /** The job being run. */
  readonly job: JobRequest;
  /** Every function the agent can run, sorted (sys.list_functions). */
  listFunctions(): string[];
  /** Sets the job's retcode without failing the call (as Salt's `__context__["retcode"]`). */
  setRetcode(code: number): void;
}

/** One execution function: `(args, kwargs, ctx) => Promise<return>`. Throwing fails the job. */
export type ModuleFunction = (
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: ModuleContext,
) => Promise<unknown>;

/** The functions of one module, by function name (`ping` in `test.ping`). */
export type ModuleFunctions = Readonly<Record<string, ModuleFunction>>;
