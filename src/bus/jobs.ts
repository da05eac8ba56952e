/**
 * Jobs on the wire (DESIGN.md 4): the JOBS stream on `job.>`, one subject per agent
 * (`job.<encoded agent id>`), a durable consumer per agent, JSON JobRequest payloads.
 * `Nats-Msg-Id` is `<jid>/<agent id>`, so a re-dispatched job is stored once.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, nanos } from "@nats-io/transport-node";
import { BusError, checkJsonDepth, encodeSegment, errorMessage, type JobRequest } from "../core/index.js";
import type { Connection } from "./connection.js";
import { storageHint } from "./events.js";
import { encodeKeyPart } from "./kvkey.js";

/** Name of the jobs stream. */
export const JOBS_STREAM = "JOBS";
/** Header carrying the service's signature of a job. */
export const JOB_SIGNATURE_HEADER = "Reactor-Sig";

/** The subject of an agent's jobs. */
export function jobSubject(agentId: string): string {
  return `job.${encodeSegment(agentId)}`;
}

/** Bytes the JOBS stream keeps (and reserves on the server). */
const JOBS_MAX_BYTES = 256 * 1024 ** 2;

/** Jobs stream settings. */
export interface JobStreamSettings {
  readonly replicas: number;
  /** Jobs older than this are removed (ms). Default 1 day. */
  readonly maxAgeMs: number;
  readonly storage: "file" | "memory";
}

/** Creates or updates the JOBS stream. */
export async function ensureJobStream(conn: Connection, s: Partial<JobStreamSettings> = {}): Promise<void> {
  const config = {
    name: JOBS_STREAM,
    subjects: ["job.>"],
    retention: RetentionPolicy.Limits,
    storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas ?? 1,
    max_age: nanos(s.maxAgeMs ?? 86_400_000),
    max_bytes: JOBS_MAX_BYTES,
    max_msgs: -1,
    max_msgs_per_subject: 10_000,
    max_msg_size: 1024 * 1024,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(120_000),
  };
  try {
    await conn.jsm.streams.info(JOBS_STREAM);
    await conn.jsm.streams.update(JOBS_STREAM, config);
  } catch (err) {
    if (!/not found/i.test(errorMessage(err))) throw new BusError(`cannot update stream ${JOBS_STREAM}: ${errorMessage(err)}${storageHint(err, JOBS_MAX_BYTES, "the JOBS stream's 256 MiB")}`, { cause: err });
    try {
      await conn.jsm.streams.add(config);
    } catch (e) {
      throw new BusError(`cannot create stream ${JOBS_STREAM}: ${errorMessage(e)}${storageHint(e, JOBS_MAX_BYTES, "the JOBS stream's 256 MiB")}`, { cause: e });
    }
  }
}

/** Signs a job's subject and payload bytes; the result travels in the `Reactor-Sig` header. */
export type JobSigner = (subject: string, payload: Uint8Array) => string;

/** Publishes a job for one agent (signed when a signer is given) and waits for the stream's ack. */
export async function publishJob(conn: Connection, agentId: string, job: JobRequest, sign?: JobSigner): Promise<{ duplicate: boolean }> {
  const subject = jobSubject(agentId);
  const payload = new TextEncoder().encode(JSON.stringify(job));
  const h = natsHeaders();
  if (sign) h.set(JOB_SIGNATURE_HEADER, sign(subject, payload));
  try {
    const ack = await conn.js.publish(subject, payload, { msgID: `${job.jid}/${agentId}`, headers: h, timeout: 5000 });
    return { duplicate: ack.duplicate };
  } catch (err) {
    throw new BusError(`cannot publish job ${job.jid} for ${agentId}: ${errorMessage(err)}`, { cause: err });
  }
}

/** A job delivered to an agent. */
export interface JobDelivery {
  readonly job: JobRequest;
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly signature?: string;
  ack(): void;
  working(): void;
  /**
   * The job can never be run (not signed by the service): removes it at once, never redelivered.
   * The reason is for the caller's log only: 2.9.10 ignores `+TERM <reason>` and redelivers.
   */
  term(): void;
}

/** The durable consumer of an agent's jobs on JOBS: `agent_<escaped id>`. */
export function jobDurable(agentId: string): string {
  return `agent_${encodeKeyPart(agentId).replace(/=/g, "_")}`;
}

/**
 * Forgets an agent on JOBS (its key was deleted): its durable consumer is deleted and the jobs
 * still queued for it are purged. Returns how many jobs were purged. Missing pieces are not errors.
 */
export async function removeAgentJobs(conn: Connection, agentId: string): Promise<number> {
  await conn.jsm.consumers.delete(JOBS_STREAM, jobDurable(agentId)).catch((err: unknown) => {
    if (!/consumer not found|stream not found/i.test(errorMessage(err))) throw err;
  });
  try {
    return (await conn.jsm.streams.purge(JOBS_STREAM, { filter: jobSubject(agentId) })).purged;
  } catch (err) {
    if (/stream not found/i.test(errorMessage(err))) return 0;
    throw err;
  }
}

/** Settings of an agent's durable job consumer (created by the service, never by the agent). */
function agentConsumerConfig(agentId: string, ackWaitMs: number) {
  return {
    durable_name: jobDurable(agentId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: jobSubject(agentId),
    ack_wait: nanos(ackWaitMs),
    max_deliver: 5,
    max_ack_pending: 64,
  };
}

/** Ack wait of agents' job consumers: a running job is kept alive with working() every 5 s. */
export const AGENT_JOB_ACK_WAIT_MS = 15_000;

/**
 * Creates an agent's durable consumer on JOBS when missing (the service does this for every accepted
 * key, so agents need no consumer management rights). Idempotent.
 */
export async function ensureAgentConsumer(conn: Connection, agentId: string): Promise<void> {
  const durable = jobDurable(agentId);
  try {
    await conn.jsm.consumers.info(JOBS_STREAM, durable);
  } catch (err) {
    if (!/consumer not found/i.test(errorMessage(err))) throw new BusError(`cannot read job consumer ${durable}: ${errorMessage(err)}`, { cause: err });
    await conn.jsm.consumers.add(JOBS_STREAM, agentConsumerConfig(agentId, AGENT_JOB_ACK_WAIT_MS));
  }
}

/**
 * Consumes an agent's jobs through its durable consumer, which the service creates when the key is
 * accepted: the agent only binds to it (CONSUMER.INFO, pull requests and acks on its own durable),
 * waiting until it exists. `signal` ends the wait.
 */
export async function consumeJobs(
  conn: Connection,
  agentId: string,
  opts: { onInvalid: (reason: string, subject: string) => void; onWait?: (reason: string) => void; signal?: AbortSignal },
): Promise<AsyncIterable<JobDelivery> & { stop(): Promise<void> }> {
  const durable = jobDurable(agentId);
  let consumer;
  for (let attempt = 0; ; attempt++) {
    try {
      consumer = await conn.js.consumers.get(JOBS_STREAM, durable);
      break;
    } catch (err) {
      if (opts.signal?.aborted) throw new BusError(`stopped while waiting for job consumer ${durable}`, { cause: err });
      if (attempt === 0) opts.onWait?.(`job consumer ${durable} not there yet (the service creates it): ${errorMessage(err)}`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
    }
  }
  const messages = await consumer.consume({ max_messages: 64 });
  let stopping: Promise<void> | undefined;
  return {
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) {
        const d = toJob(m, opts.onInvalid);
        if (d) yield d;
      }
    },
    stop() {
      stopping ??= messages.close().then(() => undefined);
      return stopping;
    },
  };
}

/** Largest job payload decoded (the JOBS stream's max_msg_size). */
const MAX_JOB_BYTES = 1024 * 1024;

function toJob(m: JsMsg, onInvalid: (reason: string, subject: string) => void): JobDelivery | undefined {
  let job: JobRequest;
  try {
    if (m.data.byteLength > MAX_JOB_BYTES) throw new Error(`over ${MAX_JOB_BYTES} bytes`);
    const text = new TextDecoder().decode(m.data);
    checkJsonDepth(text); // before JSON.parse: deeply nested junk would hold the event loop for seconds
    job = JSON.parse(text) as JobRequest;
    if (job === null || typeof job !== "object" || typeof job.jid !== "string" || typeof job.fun !== "string") throw new Error("jid and fun must be strings");
  } catch (err) {
    m.term(); // no reason: see toDelivery in events.ts
    onInvalid(`job on ${m.subject} (seq ${m.seq}) is malformed: ${errorMessage(err)}`, m.subject);
    return undefined;
  }
  const sig = m.headers?.get(JOB_SIGNATURE_HEADER);
  return {
    job,
    subject: m.subject,
    payload: m.data,
    ...(sig ? { signature: sig } : {}),
    ack: () => m.ack(),
    working: () => m.working(),
    term: () => m.term(),
  };
}
