/**
 * The agent's event sink: publishes with acks, and while NATS is unreachable keeps events in a
 * bounded buffer on disk (`<state_dir>/buffer.jsonl`), sent in order on reconnect with their
 * original `_stamp`. When the buffer is full the oldest are dropped and the count is reported
 * (`salt/minion/<id>/buffer/dropped`) once the bus is back.
 */
import { appendFile, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EventPublisher } from "../bus/index.js";
import { createEvent, errorMessage, type EventSink, type Logger, type ReactorEvent } from "../core/index.js";

/** A sink that never loses an event to a short outage. */
export interface BufferedSink extends EventSink {
  /** Events waiting for the bus. */
  readonly pending: number;
  /** Events dropped because the buffer was full, since start. */
  readonly dropped: number;
  /** Tries to send what is buffered now (called on reconnect and on a timer). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of the sink. */
export interface BufferedSinkOptions {
  readonly agentId: string;
  readonly stateDir: string;
  readonly publisher: EventPublisher;
  /** Largest number of buffered events. */
  readonly maxEvents: number;
  readonly log: Logger;
  /** How long one publish may retry before the event goes to the buffer (ms). Default 2000. */
  readonly publishTimeoutMs?: number;
  /** Signs an event before it is sent (the key handshake provides it). */
  readonly sign?: (event: ReactorEvent) => ReactorEvent;
}

/** Opens the sink, loading events left in the buffer by an earlier run. */
export async function openBufferedSink(opts: BufferedSinkOptions): Promise<BufferedSink> {
  const file = join(opts.stateDir, "buffer.jsonl");
  const queue: ReactorEvent[] = await load(file, opts.log);
  let dropped = 0;
  let unreported = 0;
  let flushing: Promise<void> | undefined;
  let stopped = false;
  const sign = opts.sign ?? ((e: ReactorEvent) => e);

  const persist = async () => {
    const tmp = `${file}.tmp`;
    await writeFile(tmp, queue.map((e) => JSON.stringify(e)).join("\n") + (queue.length ? "\n" : ""), { mode: 0o600 });
    await rename(tmp, file);
  };
  const enqueue = async (e: ReactorEvent) => {
    queue.push(e);
    if (queue.length > opts.maxEvents) {
      const n = queue.length - opts.maxEvents;
      queue.splice(0, n);
      dropped += n;
      unreported += n;
      opts.log.warn({ dropped: n, total_dropped: dropped, buffered: queue.length }, "event buffer full: dropped the oldest events");
      await persist();
    } else {
      await appendFile(file, JSON.stringify(e) + "\n", { mode: 0o600 });
    }
  };
  const flushOnce = async () => {
    let sent = 0;
    try {
      while (queue.length > 0 && !stopped) {
        await opts.publisher.publish(sign(queue[0]!));
        queue.shift();
        sent++;
      }
      if (unreported > 0) {
        const n = unreported;
        unreported = 0;
        await opts.publisher.publish(sign(createEvent({ tag: `salt/minion/${opts.agentId}/buffer/dropped`, data: { id: opts.agentId, dropped: n, total_dropped: dropped }, source: opts.agentId })));
      }
    } catch (err) {
      opts.log.debug({ err: errorMessage(err), buffered: queue.length }, "bus still unreachable");
    } finally {
      if (sent > 0) {
        await persist();
        opts.log.info({ sent, buffered: queue.length }, "sent buffered events");
      }
    }
  };
  const timer = setInterval(() => void sink.flush(), 1000);
  timer.unref();

  const sink: BufferedSink = {
    get pending() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
    async emit(tag, data, o = {}) {
      const event = createEvent({ tag, data, source: opts.agentId, ...o });
      if (queue.length > 0) {
        await enqueue(event); // keep order behind what is already waiting
        void sink.flush();
        return event;
      }
      try {
        await withTimeout(opts.publisher.publish(sign(event)), opts.publishTimeoutMs ?? 2000);
      } catch (err) {
        opts.log.warn({ err: errorMessage(err), tag }, "bus unreachable: buffering event");
        await enqueue(event);
      }
      return event;
    },
    flush() {
      flushing ??= flushOnce().finally(() => (flushing = undefined));
      return flushing;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await flushing;
    },
  };
  if (queue.length > 0) void sink.flush();
  return sink;
}

async function load(file: string, log: Logger): Promise<ReactorEvent[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  const out: ReactorEvent[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as ReactorEvent);
    } catch (err) {
      log.warn({ file, line: i + 1, err: errorMessage(err) }, "skipped a corrupt line of the event buffer");
    }
  }
  if (out.length) log.info({ buffered: out.length }, "loaded buffered events from the last run");
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no publish ack within ${ms} ms`)), ms);
    }),
  ]);
}
