/**
 * One state run at a time per agent (salt/modules/state.py `_check_queue`, `running`): a second
 * call gets Salt's "is running" answer with retcode 1, or waits its turn with `queue=True` (or a
 * number: wait when fewer are ahead).
 */
/** The job a state function runs in. */
export interface StateJob {
  readonly jid: string;
  /** `state.apply`, ... (for the "already running" answer). */
  readonly fun: string;
  readonly signal: AbortSignal;
  setRetcode(code: number): void;
}

/** One `state.*` function. */
export type StateExecFunction = (
  args: unknown[],
  kwargs: Record<string, unknown>,
  job: StateJob,
) => Promise<unknown>;

/** Salt's EX_STATE_COMPILER_ERROR, the retcode of the "is running" answer. */
const EX_STATE_COMPILER_ERROR = 1;

const MONTHS = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Salt's jid_to_time: `2026, Dec 05 05:36:00.123456`. */
export function jidToTime(jid: string): string {
  if (!/^\d{20}/.test(jid)) return "";
  const at = (a: number, b: number) => jid.slice(a, b);
  return `${at(0, 4)}, ${MONTHS[Number(at(4, 6))] ?? ""} ${at(6, 8)} ${at(8, 10)}:${at(10, 12)}:${at(12, 14)}.${at(14, 20)}`;
}

/** The lock of one agent's state runs. */
export class RunLock {
  private current: { fun: string; jid: string } | undefined;
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly pid: number) {}

  running(): string[] {
    const c = this.current;
    return c
      ? [
          `The function "${c.fun}" is running as PID ${this.pid} and was started at ${jidToTime(c.jid)} with jid ${c.jid}`,
        ]
      : [];
  }

  wrap(fn: StateExecFunction): StateExecFunction {
    return async (args, kw, job) => {
      if (kw.concurrent === true) return fn(args, kw, job);
      const prior = (this.current ? 1 : 0) + this.waiting;
      const queue = kw.queue;
      const wait = queue === true || String(queue) === "True" || (typeof queue === "number" && prior < queue);
      if (this.current && !wait) return fail(job, EX_STATE_COMPILER_ERROR, this.running());
      const prev = this.tail;
      let release!: () => void;
      this.tail = new Promise<void>((r) => (release = r));
      if (prior === 0) this.current = { fun: job.fun, jid: job.jid };
      else {
        this.waiting++;
        await prev;
        this.waiting--;
        this.current = { fun: job.fun, jid: job.jid };
      }
      try {
        return await fn(args, kw, job);
      } finally {
        this.current = undefined;
        release();
      }
    };
  }
}

function fail<T>(job: StateJob, code: number, value: T): T {
  job.setRetcode(code);
  return value;
}
