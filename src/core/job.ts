/**
 * Jobs: what the reactor (or `reactor run`) sends to an agent, and what the agent returns.
 * Wire contract in DESIGN.md section 4 (subjects `job.<encoded agent id>`, stream JOBS).
 */

/** A job addressed to one agent. */
export interface JobRequest {
  /** Job id: Salt-style 20-digit time-based id, or one derived from (event id, reaction id). */
  readonly jid: string;
  /** `module.function`, e.g. `service.restart`. */
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** The original target expression and type, for the return event. */
  readonly tgt: string | readonly string[];
  readonly tgt_type: string;
  /** Seconds the agent lets the function run before failing it. */
  readonly timeout: number;
  /** ISO time after which the agent must not start the job (a stale job is reported, not run). */
  readonly expires: string;
  /** Who asked: `reactor`, `cli`, `orchestrate`. */
  readonly user: string;
  /** Event id of the cause (for loop protection of events the job emits). */
  readonly causationId?: string;
  readonly depth?: number;
}

/** Salt's return of one agent for one job (`salt/job/<jid>/ret/<id>` data). */
export interface JobReturn {
  readonly id: string;
  readonly jid: string;
  readonly fun: string;
  readonly fun_args: readonly unknown[];
  readonly return: unknown;
  readonly retcode: number;
  readonly success: boolean;
}

/** Salt-compatible job id: `YYYYMMDDhhmmssffffff` (UTC, microseconds). */
export function newJid(now = new Date(), micros = Math.floor(Math.random() * 1000)): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
    `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}` +
    `${p(now.getUTCMilliseconds(), 3)}${p(micros, 3)}`
  );
}
