/**
 * Reading history from the EVENTS stream, read-only: an ordered ephemeral consumer from a time up to
 * the last sequence that existed when the scan began, deleted after (for `reactor explain` and
 * `reactor test --replay`).
 */
import { watchEvents, type EventStream } from "../bus/index.js";
import type { ReactorEvent } from "../core/index.js";
import type { Client } from "./client.js";

/**
 * Calls `each` with every stored event of `filter` since `since`, in stream order, up to the stream's
 * last sequence now; `each` returning true stops the scan.
 */
export async function scanStored(client: Client, filter: string, since: Date, each: (e: ReactorEvent) => boolean | void): Promise<void> {
  const info = await client.conn.jsm.streams.info(client.streamName);
  const last = info.state.last_seq;
  if (info.state.messages === 0) return;
  const stream: EventStream = await watchEvents(client.conn, client.streamName, {
    filter,
    start: { kind: "time", since },
    maxEventBytes: client.maxEventBytes,
    onInvalid: () => undefined,
  });
  // An ordered consumer has no end: stop at the last sequence that existed when we began, or when
  // nothing arrives for a while (the filter may match nothing after `since`).
  let idle = setTimeout(() => void stream.stop(), 500);
  try {
    for await (const d of stream) {
      clearTimeout(idle);
      if (each(d.event) === true || d.seq >= last) break;
      idle = setTimeout(() => void stream.stop(), 500);
    }
  } finally {
    clearTimeout(idle);
    await stream.stop();
  }
}

