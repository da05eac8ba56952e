/** The service's durable consumer, kept running: reopened when it ends, fails or stalls. */
import type { EventStream } from "../bus/index.js";
import { errorMessage, type Logger } from "../core/index.js";

/**
 * Keeps the durable consumer running: if its iterator ends while the service is not stopping (a
 * consumer lost in a cluster election, a server restart), it is opened again after a short pause,
 * so the service never silently stops consuming. Unacknowledged events are redelivered.
 */
export class ConsumerSupervisor {
  private current: EventStream | undefined;
  private stopping = false;
  /** Since when the loop has been waiting for the next event (undefined while it works on one). */
  private awaitingSince: number | undefined;

  /**
   * `pending` tells how many events the server holds for this consumer (undelivered, or delivered
   * and not acknowledged). A stream the loop has waited on for `stallMs` while events are held is
   * stalled (a pull lost with a cluster node, which the client can take minutes to notice): it is
   * closed and opened again. A loop busy with its events is not. Reopening while some handlers
   * still run is harmless: their acks do not need the stream.
   */
  constructor(
    private readonly open: () => Promise<EventStream>,
    private readonly log: Logger,
    private readonly pending?: () => Promise<number>,
    private readonly stallMs = 20_000,
  ) {}

  async run(loop: (stream: EventStream) => Promise<void>): Promise<void> {
    const watchdog = this.pending ? setInterval(() => void this.checkStall(), Math.max(250, this.stallMs / 4)) : undefined;
    watchdog?.unref();
    try {
      for (let attempt = 0; !this.stopping; attempt++) {
        try {
          this.current = this.watched(await this.open());
          attempt = 0;
          await loop(this.current);
          if (!this.stopping) this.log.warn({}, "the event consumer ended unexpectedly; opening it again");
        } catch (err) {
          if (this.stopping) break;
          this.log.error({ err: errorMessage(err), attempt }, "the event consumer failed; opening it again");
        }
        if (!this.stopping) await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  /** The stream, noting when the loop waits on it. */
  private watched(stream: EventStream): EventStream {
    const mark = (since: number | undefined) => void (this.awaitingSince = since);
    return {
      async *[Symbol.asyncIterator]() {
        const it = stream[Symbol.asyncIterator]();
        try {
          for (;;) {
            mark(Date.now());
            const next = await it.next();
            mark(undefined);
            if (next.done) return;
            yield next.value;
          }
        } finally {
          mark(undefined);
        }
      },
      stop: () => stream.stop(),
    };
  }

  private async checkStall(): Promise<void> {
    const since = this.awaitingSince;
    if (this.stopping || !this.current || since === undefined || Date.now() - since < this.stallMs) return;
    const waiting = await this.pending!().catch(() => 0);
    if (waiting === 0 || this.stopping || this.awaitingSince !== since) return;
    this.log.warn({ waiting, waited_ms: Date.now() - since }, "the event consumer delivered nothing while events wait; opening it again");
    this.awaitingSince = undefined;
    await this.current.stop().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.current?.stop();
  }
}
