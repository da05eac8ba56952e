/**
 * Runs jobs: looks the function up, runs it with the job's timeout (an AbortSignal that kills child
 * processes), and turns every outcome into Salt's return. Never throws. Runs up to
 * `max_concurrent_jobs` jobs at once; the rest wait in a FIFO queue, so a long job never blocks others.
 */
import type { AgentConfig } from "../config/index.js";
import { ModuleArgumentError, TimeoutError, errorMessage } from "../core/errors.js";
import type { JobRequest, JobReturn } from "../core/job.js";
import { silentLogger, type EventSink, type FileClient, type Logger, type ServiceManager } from "../core/ports.js";
import type { ModuleRegistry } from "./modules/registry.js";
import type { ModuleContext } from "./modules/types.js";

/** The abort reason once a job ended: its child processes are stopped (one object: no stack per job). */
const FINISHED = new Error("the job finished");

/** What an executor needs. */
export interface ExecutorOptions {
  readonly config: AgentConfig;
  readonly registry: ModuleRegistry;
  readonly emit: EventSink;
  readonly serviceManager: ServiceManager;
  /** `salt://` files for cp.* and states. Default: none (cp.* fails). */
  readonly files?: FileClient;
  readonly logger?: Logger;
  /** Jobs at once. Default: `config.max_concurrent_jobs`. */
  readonly maxConcurrent?: number;
  /** Clock, for expiry. Default: `() => new Date()`. */
  readonly now?: () => Date;
}

/** Runs jobs on this agent. */
export interface Executor {
  /** Runs one job to a return; never rejects. */
  run(job: JobRequest): Promise<JobReturn>;
  /** Every `module.function` this agent can run, sorted. */
  listFunctions(): string[];
  /** True while a job runs (beacons' `disable_during_state_run`). */
  isBusy(): boolean;
  /** Jobs running now and waiting for a slot. */
  stats(): { running: number; queued: number };
}

/** Creates an executor. */
export function createExecutor(opts: ExecutorOptions): Executor {
  const logger = (opts.logger ?? silentLogger).child({ component: "executor" });
  const now = opts.now ?? (() => new Date());
  const limit = Math.max(1, opts.maxConcurrent ?? opts.config.max_concurrent_jobs);
  const waiting: (() => void)[] = [];
  let running = 0;

  const acquire = async (): Promise<void> => {
    if (running < limit) {
      running++;
      return;
    }
    await new Promise<void>((r) => waiting.push(r));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  const execute = async (job: JobRequest): Promise<JobReturn> => {
    const ret = (value: unknown, retcode: number): JobReturn =>
      jobReturn(opts.config.id, job, value, retcode);
    const expires = Date.parse(job.expires);
    if (!Number.isNaN(expires) && expires < now().getTime()) {
      logger.warn({ jid: job.jid, fun: job.fun, expires: job.expires }, "job expired before it started");
      return ret(`job ${job.jid} expired at ${job.expires} before it could start; not run`, 1);
    }
    const fn = opts.registry.get(job.fun);
    if (!fn) return ret(`'${job.fun}' is not available.`, 1);
    const seconds = job.timeout > 0 ? job.timeout : opts.config.job_timeout;
    const ac = new AbortController();
    let retcode = 0;
    const ctx: ModuleContext = {
      config: opts.config,
      logger: logger.child({ jid: job.jid, fun: job.fun }),
      emit: opts.emit,
      serviceManager: opts.serviceManager,
      ...(opts.files ? { files: opts.files } : {}),
      signal: ac.signal,
      job,
      listFunctions: () => opts.registry.list(),
      setRetcode: (code) => void (retcode = code),
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TimeoutError(`'${job.fun}' timed out after ${seconds} s`);
        ac.abort(err);
        reject(err);
      }, seconds * 1000);
    });
    try {
      const value = await Promise.race([fn([...job.arg], { ...job.kwarg }, ctx), timedOut]);
      return ret(value, retcode);
    } catch (err) {
      logger.info({ jid: job.jid, fun: job.fun, err }, "job failed");
      return ret(
        err instanceof ModuleArgumentError ? err.message : `ERROR: ${errorMessage(err)}`,
        retcode || 1,
      );
    } finally {
      clearTimeout(timer);
      if (!ac.signal.aborted) ac.abort(FINISHED);
    }
  };

  return {
    async run(job) {
      await acquire();
      try {
        return await execute(job);
      } catch (err) {
        return jobReturn(opts.config.id, job, `ERROR: ${errorMessage(err)}`, 1);
      } finally {
        release();
      }
    },
    listFunctions: () => opts.registry.list(),
    isBusy: () => running > 0,
    stats: () => ({ running, queued: waiting.length }),
  };
}

/** Salt's return; `success` is `retcode === 0`; `fun_args` lists kwargs as a final map (as Salt does). */
export function jobReturn(id: string, job: JobRequest, value: unknown, retcode: number): JobReturn {
  const kw = Object.keys(job.kwarg).length ? [{ ...job.kwarg }] : [];
  return {
    id,
    jid: job.jid,
    fun: job.fun,
    fun_args: [...job.arg, ...kw],
    return: value === undefined ? null : value,
    retcode,
    success: retcode === 0,
  };
}
