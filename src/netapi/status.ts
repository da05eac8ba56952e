/**
 * `reactor.status`: every running service replica answers a status request with what it is and
 * how it is doing, so `reactor status` can count replicas on any server version (2.9 has no
 * consumer pull-request counts). Request-reply on core NATS; nothing is stored.
 */
import type { Connection } from "../bus/index.js";
import { errorMessage, silentLogger, type Logger } from "../core/index.js";

/** The subject service replicas answer on. */
export const STATUS_SUBJECT = "reactor.status";

/** What one service replica reports. */
export interface ReplicaStatus {
  /** Unique per process, e.g. `host:pid`. */
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  /** ISO time the replica started. */
  readonly started: string;
  readonly stream: string;
  readonly durable: string;
  /** The engine's counters (events received, reactions dispatched, ...). */
  readonly counters: Readonly<Record<string, number>>;
  /** Where the webhook and metrics listeners are, when on. */
  readonly http?: string;
  readonly metrics?: string;
}

/** A running responder. */
export interface StatusResponder {
  stop(): void;
}

/** Answers `reactor.status` requests with `info()`. */
export function serveStatus(
  conn: Connection,
  info: () => ReplicaStatus,
  log: Logger = silentLogger,
): StatusResponder {
  const sub = conn.nc.subscribe(STATUS_SUBJECT, {
    callback: (err, msg) => {
      if (err) {
        log.warn({ err: errorMessage(err) }, "status responder stopped");
        return;
      }
      try {
        msg.respond(JSON.stringify(info()));
      } catch (e) {
        log.warn({ err: errorMessage(e) }, "cannot answer a status request");
      }
    },
  });
  return { stop: () => sub.unsubscribe() };
}

/** Asks every replica for its status; collects the answers that arrive within `waitMs`. */
export async function collectStatus(conn: Connection, waitMs = 1000): Promise<ReplicaStatus[]> {
  const out: ReplicaStatus[] = [];
  try {
    const replies = await conn.nc.requestMany(STATUS_SUBJECT, "", { strategy: "timer", maxWait: waitMs });
    for await (const m of replies) {
      try {
        out.push(m.json<ReplicaStatus>());
      } catch {
        /* not one of ours */
      }
    }
  } catch (err) {
    if (!/no responders|503/i.test(errorMessage(err))) throw err;
  }
  return out.sort((a, b) => a.instance.localeCompare(b.instance));
}
