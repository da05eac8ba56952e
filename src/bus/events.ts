/**
 * The EVENTS stream: creation with explicit settings, publishing with acks and retries, a durable
 * consumer for the service, and ordered consumers for `reactor event watch`.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type JsMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { BusError, errorMessage, EventTooLargeError, InvalidEventError, type InvalidEventKind, type ReactorEvent } from "../core/index.js";
import { decodeEvent, encodeEvent } from "./codec.js";
import type { Connection } from "./connection.js";

/** Settings of the EVENTS stream (DESIGN.md 2.3). All explicit, none left to server defaults. */
export interface EventStreamSettings {
  /** Stream name. Default `EVENTS`. */
  readonly name: string;
  /** 1 on one server, 3 on a cluster. */
  readonly replicas: number;
  /** Events older than this are removed (ms). */
  readonly maxAgeMs: number;
  /** The stream keeps at most this many bytes (oldest removed first). */
  readonly maxBytes: number;
  /** Window in which a repeated event id is de-duplicated (ms). */
  readonly duplicateWindowMs: number;
  readonly storage: "file" | "memory";
  /** Largest event payload accepted, bytes; the server refuses larger messages too. */
  readonly maxEventBytes: number;
}

/** Defaults: 7 days, 1 GiB, 2 minutes de-dup, file storage, R1, 1 MiB events. */
export function defaultStreamSettings(): EventStreamSettings {
  return {
    name: "EVENTS",
    replicas: 1,
    maxAgeMs: 7 * 24 * 3600_000,
    maxBytes: 1024 ** 3,
    duplicateWindowMs: 120_000,
    storage: "file",
    maxEventBytes: 1024 * 1024,
  };
}

const HEADER_ROOM = 4096;

/** Creates the stream, or updates its settings when it exists. */
export async function ensureEventStream(conn: Connection, s: EventStreamSettings): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: s.name,
    subjects: ["evt.>"],
    retention: RetentionPolicy.Limits,
    storage: s.storage === "file" ? StorageType.File : StorageType.Memory,
    num_replicas: s.replicas,
    max_age: nanos(s.maxAgeMs),
    max_bytes: s.maxBytes,
    max_msgs: -1,
    max_msgs_per_subject: -1,
    max_msg_size: s.maxEventBytes + HEADER_ROOM,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(s.duplicateWindowMs),
  };
  try {
    await conn.jsm.streams.info(s.name);
    await conn.jsm.streams.update(s.name, config);
  } catch (err) {
    if (!isNotFound(err)) throw new BusError(`cannot update stream ${s.name}: ${errorMessage(err)}${storageHint(err, s.maxBytes, "stream.max_bytes of reactor.yaml")}`, { cause: err });
    try {
      await conn.jsm.streams.add(config);
    } catch (e) {
      throw new BusError(`cannot create stream ${s.name}: ${errorMessage(e)}${storageHint(e, s.maxBytes, "stream.max_bytes of reactor.yaml")}`, { cause: e });
    }
  }
}

/**
 * What to change when JetStream refuses a stream for want of storage: a stream reserves its
 * `max_bytes` against the server's (or account's) `max_file_store` / `max_memory_store`.
 */
export function storageHint(err: unknown, bytes: number, setting: string): string {
  if (!/insufficient (storage )?resources/i.test(errorMessage(err))) return "";
  return (
    `: the stream reserves ${bytes} bytes (${setting}), more than the NATS server's JetStream has left; ` +
    `lower ${setting}, or raise max_file_store / max_memory_store in the server's jetstream block (or the account's limits)`
  );
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(errorMessage(err));
}

/** Result of a stored publish. */
export interface PublishResult {
  readonly seq: number;
  /** True when the stream already had this event id (a retried publish). */
  readonly duplicate: boolean;
}

/** Publishes events and waits for the stream's ack. */
export interface EventPublisher {
  publish(event: ReactorEvent): Promise<PublishResult>;
}

/**
 * A publisher that retries transient failures (no responders, timeouts, leader elections) with the
 * same `Nats-Msg-Id` until `retryForMs`, so a retry is never stored twice.
 */
export function createEventPublisher(
  conn: Connection,
  opts: {
    maxEventBytes: number;
    retryForMs?: number;
    ackTimeoutMs?: number;
    /** Signs each event before it is encoded (the service's and agents' keys). */
    sign?: (event: ReactorEvent) => ReactorEvent;
  },
): EventPublisher {
  const retryFor = opts.retryForMs ?? 30_000;
  return {
    async publish(unsigned) {
      const event = opts.sign && !unsigned.signature ? opts.sign(unsigned) : unsigned;
      const enc = encodeEvent(event, opts.maxEventBytes);
      const deadline = Date.now() + retryFor;
      for (let attempt = 0; ; attempt++) {
        try {
          const ack = await conn.js.publish(enc.subject, enc.payload, {
            msgID: event.id,
            headers: enc.headers,
            timeout: opts.ackTimeoutMs ?? 5000,
          });
          return { seq: ack.seq, duplicate: ack.duplicate };
        } catch (err) {
          if (err instanceof EventTooLargeError || !isTransient(err) || Date.now() > deadline) {
            throw new BusError(`cannot publish event ${event.tag}: ${errorMessage(err)}`, { cause: err });
          }
          await sleep(Math.min(2000, 50 * 2 ** attempt));
        }
      }
    },
  };
}

function isTransient(err: unknown): boolean {
  const msg = errorMessage(err).toLowerCase();
  return /timeout|no responders|not enabled|disconnect|connection|503|leader|closed/.test(msg) && !/maximum payload/.test(msg);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Why a message could not be decoded: the codec's kinds, and `too-large` (over the size limit). */
export type InvalidMessageKind = InvalidEventKind | "too-large";

/** A message of the stream that could not be decoded as an event. */
export interface InvalidMessage {
  readonly subject: string;
  readonly seq: number;
  readonly kind: InvalidMessageKind;
  readonly reason: string;
}

/** The kind of a decoding failure. */
export function invalidKind(err: unknown): InvalidMessageKind {
  if (err instanceof EventTooLargeError) return "too-large";
  return err instanceof InvalidEventError ? err.kind : "malformed";
}

/** One decoded event delivered by a consumer, with its acknowledgement controls. */
export interface EventDelivery {
  readonly event: ReactorEvent;
  /** The message's subject and payload, as received (what a signature covers). */
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly seq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  /**
   * Acknowledges. Fire-and-forget: a lost ack means a redelivery, which the reactions ledger
   * de-duplicates, so the per-message round trip of a confirmed ack is not worth its cost.
   */
  ack(): void;
  /** Acknowledges and waits until the server confirmed it (for shutdown and tests). */
  ackSync(): Promise<void>;
  /** Asks for redelivery after `delayMs`. */
  nak(delayMs?: number): void;
  /** Extends the ack deadline while work is in progress. */
  working(): void;
}

/**
 * Decodes a JetStream message; invalid ones are reported through `onInvalid` and terminated at once.
 * `term()` carries no reason on purpose: nats-server 2.9.10 does not parse `+TERM <reason>` and
 * redelivers the message until `max_deliver` (so junk would fill `max_ack_pending`).
 */
function toDelivery(
  m: JsMsg,
  maxBytes: number,
  onInvalid: (bad: InvalidMessage) => void,
  acked: boolean,
): EventDelivery | undefined {
  try {
    const event = decodeEvent(m.subject, m.headers, m.data, maxBytes);
    return {
      event,
      subject: m.subject,
      payload: m.data,
      seq: m.seq,
      deliveryCount: m.info.deliveryCount,
      ack: () => m.ack(),
      ackSync: async () => {
        await m.ackAck();
      },
      nak: (d) => m.nak(d),
      working: () => m.working(),
    };
  } catch (err) {
    if (acked) m.term();
    onInvalid({ subject: m.subject, seq: m.seq, kind: invalidKind(err), reason: errorMessage(err) });
    return undefined;
  }
}

/** Durable consumer settings for the reactor service. */
export interface DurableSettings {
  readonly durable: string;
  readonly filter: string;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxAckPending: number;
}

/** Creates (or updates) the durable pull consumer. */
export async function ensureDurable(conn: Connection, stream: string, s: DurableSettings): Promise<void> {
  const cfg = {
    durable_name: s.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    filter_subject: s.filter,
    ack_wait: nanos(s.ackWaitMs),
    max_deliver: s.maxDeliver,
    max_ack_pending: s.maxAckPending,
  };
  try {
    await conn.jsm.consumers.info(stream, s.durable);
    await conn.jsm.consumers.update(stream, s.durable, {
      ack_wait: cfg.ack_wait,
      max_deliver: cfg.max_deliver,
      max_ack_pending: cfg.max_ack_pending,
    });
  } catch (err) {
    if (!isNotFound(err)) throw new BusError(`cannot update consumer ${s.durable}: ${errorMessage(err)}`, { cause: err });
    await conn.jsm.consumers.add(stream, cfg);
  }
}

/** A running subscription that can be stopped. */
export interface EventStream extends AsyncIterable<EventDelivery> {
  stop(): Promise<void>;
}

/** Consumes the durable consumer as an async iterator of decoded events. */
export async function consumeDurable(
  conn: Connection,
  stream: string,
  durable: string,
  opts: { maxEventBytes: number; batch?: number; onInvalid: (bad: InvalidMessage) => void },
): Promise<EventStream> {
  const consumer = await conn.js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: opts.batch ?? 256 });
  return wrap(messages, opts.maxEventBytes, opts.onInvalid, true, () => messages.close());
}

/** Where a watch starts: new events only, a time, or a stream sequence. */
export type WatchStart = { kind: "new" } | { kind: "time"; since: Date } | { kind: "all" };

/** Follows events with an ordered (ephemeral) consumer; nothing is acknowledged. */
export async function watchEvents(
  conn: Connection,
  stream: string,
  opts: { filter: string; start: WatchStart; maxEventBytes: number; onInvalid: (bad: InvalidMessage) => void },
): Promise<EventStream> {
  const start =
    opts.start.kind === "time"
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.start.since.toISOString() }
      : { deliver_policy: opts.start.kind === "all" ? DeliverPolicy.All : DeliverPolicy.New };
  const consumer = await conn.js.consumers.get(stream, { filter_subjects: opts.filter, ...start });
  const messages = await consumer.consume();
  // close() leaves the ephemeral consumer on the server until its inactivity threshold: delete it.
  return wrap(messages, opts.maxEventBytes, opts.onInvalid, false, async () => {
    await messages.close();
    await consumer.delete().catch(() => undefined);
  });
}

function wrap(
  messages: AsyncIterable<JsMsg>,
  maxBytes: number,
  onInvalid: (bad: InvalidMessage) => void,
  acked: boolean,
  close: () => Promise<void | Error>,
): EventStream {
  let stopping: Promise<void> | undefined;
  return {
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) {
        const d = toDelivery(m, maxBytes, onInvalid, acked);
        if (d) yield d;
      }
    },
    stop() {
      stopping ??= close().then(() => undefined);
      return stopping;
    },
  };
}
