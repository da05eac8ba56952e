/**
 * Dispatch of one reaction: `local` publishes a job per targeted agent, `caller` a job to the agent
 * that sent the event, `runner` and `wheel` call functions on the service. Emits Salt's job, run and
 * wheel events. Everything the service talks to comes in through DispatchPorts.
 */
import { errorMessage, type JobRequest, type Reaction, type ReactorEvent } from "../core/index.js";

/**
 * A function run on the service (runner or wheel). One that sets `ownRunEvents` publishes its own
 * `salt/run/<jid>/new|ret` (a long orchestration reports its real result when it ends).
 */
export type ServiceFunction = ((
  kwarg: Readonly<Record<string, unknown>>,
  ctx: ServiceCallContext,
) => Promise<unknown>) & {
  readonly ownRunEvents?: boolean;
};

/** What a service function knows of its call. */
export interface ServiceCallContext {
  readonly jid: string;
  readonly event: ReactorEvent;
  readonly arg: readonly unknown[];
}

/** What dispatch needs from the outside world. */
export interface DispatchPorts {
  /** Ids of accepted agents a target selects. */
  resolveTargets(tgt: string | readonly string[], tgtType: string): Promise<string[]>;
  publishJob(agentId: string, job: JobRequest): Promise<void>;
  /** Publishes an event caused by `cause` (its id is given, so a repeat is de-duplicated). */
  emit(tag: string, data: Record<string, unknown>, opts: { id: string; cause: ReactorEvent }): Promise<void>;
  readonly runners: Readonly<Record<string, ServiceFunction>>;
  readonly wheel: Readonly<Record<string, ServiceFunction>>;
}

/** The outcome of a dispatch, recorded in the ledger and the audit events. */
export interface DispatchOutcome {
  readonly ok: boolean;
  readonly targets?: readonly string[];
  readonly result?: unknown;
  readonly error?: string;
}

/** Seconds an agent may take for a reaction's job, unless the reaction says `timeout:`. */
export const DEFAULT_JOB_TIMEOUT_S = 60;

/** Dispatches one reaction of `event` under job id `jid`. Never throws for a reaction's own failure. */
export async function dispatchReaction(
  r: Reaction,
  event: ReactorEvent,
  jid: string,
  ports: DispatchPorts,
): Promise<DispatchOutcome> {
  switch (r.client) {
    case "local":
      return dispatchJob(r, event, jid, ports, await ports.resolveTargets(r.tgt ?? "", r.tgt_type ?? "glob"));
    case "caller":
      if (event.source === "cli" || event.source === "reactor" || event.source === "unknown") {
        return {
          ok: false,
          error: `caller.${r.fun} needs an event sent by an agent; this one came from ${event.source}`,
        };
      }
      return dispatchJob(r, event, jid, ports, [event.source]);
    case "runner":
      return callService("run", ports.runners, r, event, jid, ports);
    case "wheel":
      return callService("wheel", ports.wheel, r, event, jid, ports);
  }
}

async function dispatchJob(
  r: Reaction,
  event: ReactorEvent,
  jid: string,
  ports: DispatchPorts,
  targets: string[],
): Promise<DispatchOutcome> {
  const tgt = r.client === "caller" ? event.source : (r.tgt ?? "");
  const tgtType = r.client === "caller" ? "list" : (r.tgt_type ?? "glob");
  if (targets.length === 0)
    return { ok: false, targets, error: `no agent matched the target ${describeTgt(tgt)} (${tgtType})` };
  const timeout = typeof r.extra["timeout"] === "number" ? r.extra["timeout"] : DEFAULT_JOB_TIMEOUT_S;
  const job: JobRequest = {
    jid,
    fun: r.fun,
    arg: r.arg,
    kwarg: r.kwarg,
    tgt,
    tgt_type: tgtType,
    timeout,
    expires: new Date(Date.now() + Math.max(timeout, 60) * 1000 * 10).toISOString(),
    user: "reactor",
    causationId: event.id,
    depth: event.depth + 1,
  };
  await Promise.all([
    ports.emit(
      `salt/job/${jid}/new`,
      { jid, tgt, tgt_type: tgtType, fun: r.fun, arg: r.arg, minions: targets, user: "reactor" },
      {
        id: `${jid}/new`,
        cause: event,
      },
    ),
    ...targets.map((id) => ports.publishJob(id, job)),
  ]);
  return { ok: true, targets };
}

async function callService(
  kind: "run" | "wheel",
  table: Readonly<Record<string, ServiceFunction>>,
  r: Reaction,
  event: ReactorEvent,
  jid: string,
  ports: DispatchPorts,
): Promise<DispatchOutcome> {
  const fn = Object.hasOwn(table, r.fun) ? table[r.fun] : undefined;
  const client = kind === "run" ? "runner" : "wheel";
  if (!fn)
    return {
      ok: false,
      error: `'${r.fun}' is not available as a ${client} function (available: ${Object.keys(table).sort().join(", ")})`,
    };
  const base = { fun: `${client}.${r.fun}`, fun_args: [r.kwarg], jid, user: "reactor" };
  const events = fn.ownRunEvents !== true;
  if (events) await ports.emit(`salt/${kind}/${jid}/new`, base, { id: `${jid}/new`, cause: event });
  let result: unknown;
  let error: string | undefined;
  try {
    result = await fn(r.kwarg, { jid, event, arg: r.arg });
  } catch (err) {
    error = errorMessage(err);
  }
  if (events || error !== undefined) {
    await ports.emit(
      `salt/${kind}/${jid}/ret`,
      { ...base, return: error ?? result ?? null, success: error === undefined },
      {
        id: `${jid}/ret`,
        cause: event,
      },
    );
  }
  return error === undefined ? { ok: true, result } : { ok: false, error };
}

function describeTgt(tgt: string | readonly string[]): string {
  return typeof tgt === "string" ? JSON.stringify(tgt) : JSON.stringify(tgt.join(","));
}
