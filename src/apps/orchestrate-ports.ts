/**
 * Real ports of orchestration over NATS: targets from the minion directory, jobs over JOBS with
 * returns collected from `salt/job/<jid>/ret/*` events, `wait_for_event` on the event stream, and
 * runs recorded in the `runs` KV bucket. Used by the service's `state.orchestrate` runner and by
 * `reactor orchestrate`.
 */
import { openKv, publishJob, watchEvents, type Connection, type EventPublisher } from "../bus/index.js";
import { compileTagGlob } from "../core/glob/index.js";
import { createEvent, newJid, subjectFilterForGlob, type JobRequest, type JobReturn } from "../core/index.js";
import type { CallReturn, MinionReply, OrchestratePorts, RunSummary } from "../orchestrate/index.js";
import type { MinionDirectory } from "./minion-directory.js";

/** What the ports are built from. */
export interface OrchestratePortsDeps {
  readonly conn: Connection;
  readonly publisher: EventPublisher;
  readonly streamName: string;
  readonly maxEventBytes: number;
  readonly minions: MinionDirectory;
  readonly user: string;
  readonly replicas?: number;
  /** Signs jobs (the service key); agents refuse unsigned jobs. */
  readonly signJob?: (subject: string, payload: Uint8Array) => string;
  /** Service functions (the service passes its runner and wheel tables; the CLI has none). */
  readonly runner?: (fun: string, kwarg: Readonly<Record<string, unknown>>) => Promise<unknown>;
  readonly wheel?: (fun: string, kwarg: Readonly<Record<string, unknown>>) => Promise<unknown>;
}

/** Builds the ports. */
export async function createOrchestratePorts(d: OrchestratePortsDeps): Promise<OrchestratePorts> {
  const runs = await openKv<RunSummary>(d.conn, { bucket: "runs", history: 1, replicas: d.replicas ?? 1, maxAgeMs: 30 * 86_400_000 });
  const watch = (glob: string, start: "new") =>
    watchEvents(d.conn, d.streamName, { filter: subjectFilterForGlob(compileTagGlob(glob)), start: { kind: start }, maxEventBytes: d.maxEventBytes, onInvalid: () => undefined });
  const call = async (kind: string, fn: OrchestratePortsDeps["runner"], fun: string, kwarg: Readonly<Record<string, unknown>>): Promise<CallReturn> => {
    if (!fn) return { return: `${kind} functions are run by the reactor service; '${fun}' is not available here`, success: false };
    try {
      return { return: (await fn(fun, kwarg)) ?? null, success: true };
    } catch (err) {
      return { return: err instanceof Error ? err.message : String(err), success: false };
    }
  };
  const emit = async (tag: string, data: Record<string, unknown>): Promise<void> =>
    void (await d.publisher.publish(createEvent({ tag, data, source: d.user === "cli" ? "cli" : "reactor" })));
  return {
    resolveTargets: async (tgt, tgtType) => d.minions.resolve(tgt, tgtType),
    async runFunction(c) {
      const glob = compileTagGlob(`salt/job/${c.jid}/ret/*`);
      const stream = await watch(glob.pattern, "new");
      const job: JobRequest = {
        jid: c.jid,
        fun: c.fun,
        arg: c.arg,
        kwarg: c.kwarg,
        tgt: c.tgt,
        tgt_type: c.tgtType,
        timeout: Math.ceil(c.timeoutMs / 1000),
        expires: new Date(Date.now() + c.timeoutMs).toISOString(),
        user: d.user,
      };
      const replies: Record<string, MinionReply> = {};
      const timer = setTimeout(() => void stream.stop(), c.timeoutMs + 2000);
      const onAbort = () => void stream.stop();
      c.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        // As Salt's LocalClient: the job is announced, then published to each target.
        await emit(`salt/job/${c.jid}/new`, { jid: c.jid, tgt: c.tgt, tgt_type: c.tgtType, fun: c.fun, arg: c.arg, minions: c.targets, user: d.user });
        for (const id of c.targets) await publishJob(d.conn, id, job, d.signJob);
        for await (const ev of stream) {
          const r = ev.event.data as unknown as JobReturn;
          if (c.targets.includes(r.id)) replies[r.id] = r;
          if (Object.keys(replies).length === c.targets.length) break;
        }
      } finally {
        clearTimeout(timer);
        c.signal?.removeEventListener("abort", onAbort);
        await stream.stop();
      }
      for (const id of c.targets) replies[id] ??= { timeout: true };
      return replies;
    },
    runWheel: (fun, kwarg) => call("wheel", d.wheel, fun, kwarg),
    runRunner: (fun, kwarg) => call("runner", d.runner, fun, kwarg),
    async waitForEvent(tagGlob, predicate, timeoutMs, signal) {
      const glob = compileTagGlob(tagGlob);
      const stream = await watch(tagGlob, "new");
      const timer = setTimeout(() => void stream.stop(), timeoutMs);
      const onAbort = () => void stream.stop();
      signal.addEventListener("abort", onAbort);
      try {
        for await (const ev of stream) {
          const seen = { tag: ev.event.tag, data: ev.event.data };
          if (glob.test(seen.tag) && predicate(seen)) return seen;
        }
        return undefined;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        await stream.stop();
      }
    },
    emit,
    now: () => Date.now(),
    newJid: () => newJid(),
    runs: {
      save: async (jid, summary) => void (await runs.put(jid, summary)),
      get: async (jid) => (await runs.get(jid))?.value,
    },
  };
}
