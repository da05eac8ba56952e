/**
 * One configured beacon at run time: its instance, its timer, the poll in flight, and whether it is
 * failing. Failures are reported once per state change: when a beacon starts failing (log error and
 * a `salt/beacon/<id>/<name>/error` event) and when it works again (log info and a
 * `salt/beacon/<id>/<name>/recovered` event); never on every tick.
 */
import { errorMessage, TimeoutError, type EventSink, type Logger, type ServiceManager } from "../core/index.js";
import type { BeaconEvent, BeaconInstance, BeaconPlugin } from "./plugin.js";
import type { BeaconSpec } from "./spec.js";

/** What a slot shares with the scheduler. */
export interface SlotContext {
  readonly agentId: string;
  readonly sink: EventSink;
  readonly log: Logger;
  readonly serviceManager?: ServiceManager;
  readonly isBusy: () => boolean;
  readonly now: () => Date;
  /** Told of every poll and whether it worked. */
  readonly onRun?: (beacon: string, ok: boolean) => void;
}

/** Builds the tag of a beacon event: `salt/beacon/<id>/<name>/<suffix>` (Salt's trailing `/` without a suffix). */
export function beaconTag(agentId: string, name: string, suffix = ""): string {
  return `salt/beacon/${agentId}/${name}/${suffix}`;
}

export class BeaconSlot {
  enabled: boolean;
  failing: string | undefined;
  private instance: BeaconInstance | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private needsStart = false;
  private emitting: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  /** False once stopped: late results of a poll in flight are dropped. */
  private active = false;

  constructor(
    readonly spec: BeaconSpec,
    private readonly plugin: BeaconPlugin,
    private readonly ctx: SlotContext,
  ) {
    this.enabled = spec.enabled;
    this.log = ctx.log.child({ beacon: spec.name, type: spec.type });
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Creates the instance and starts the timer; the first poll runs at once. */
  start(): void {
    if (this.timer) return;
    this.instance = this.plugin.create(this.spec.config, {
      ...(this.ctx.serviceManager ? { serviceManager: this.ctx.serviceManager } : {}),
      log: this.log,
      now: this.ctx.now,
      emit: (events) => this.deliver(events),
      fail: (err) => {
        this.needsStart = this.instance?.start !== undefined;
        this.fail(err);
      },
    });
    this.needsStart = this.instance.start !== undefined;
    this.active = true;
    this.timer = setInterval(() => this.tick(), this.spec.intervalMs);
    this.tick();
  }

  /**
   * Stops the timer and the instance and waits for pending emits. A poll still in flight is not
   * awaited (it may hang); whatever it returns is dropped.
   */
  async stop(): Promise<void> {
    this.active = false;
    clearInterval(this.timer);
    this.timer = undefined;
    const instance = this.instance;
    this.instance = undefined;
    const errors: unknown[] = [];
    await Promise.resolve(instance?.stop?.()).catch((err: unknown) => errors.push(err));
    this.inFlight = undefined;
    await this.emitting;
    if (errors.length) this.log.warn({ err: errors[0] }, "beacon did not stop cleanly");
  }

  private tick(): void {
    if (!this.timer || !this.instance) return;
    if (this.spec.disableDuringStateRun && this.ctx.isBusy()) {
      this.log.debug({}, "skipped: a state run is in progress");
      return;
    }
    if (this.inFlight) {
      this.log.debug({}, "skipped: the previous poll is still running");
      return;
    }
    const p = this.runOnce(this.instance).finally(() => {
      if (this.inFlight === p) this.inFlight = undefined;
    });
    this.inFlight = p;
  }

  private async runOnce(instance: BeaconInstance): Promise<void> {
    if (this.needsStart && !(await this.startInstance(instance))) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), this.spec.timeoutMs)));
    const poll = Promise.resolve().then(() => instance.poll());
    try {
      const result = await Promise.race([poll, timeout]);
      if (result === "timeout") {
        this.ctx.onRun?.(this.spec.name, false);
        this.fail(new TimeoutError(`poll did not finish within ${this.spec.timeoutMs} ms`));
        await poll.catch(() => undefined); // stays in flight: no second poll piles up behind a hung one
        return;
      }
      if (!this.needsStart) this.recover();
      this.deliver(result);
      this.ctx.onRun?.(this.spec.name, true);
      if (this.spec.runOnce) this.disableAfterRun();
    } catch (err) {
      this.ctx.onRun?.(this.spec.name, false);
      this.fail(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async startInstance(instance: BeaconInstance): Promise<boolean> {
    try {
      await instance.stop?.();
      await instance.start?.();
      this.needsStart = false;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private disableAfterRun(): void {
    this.enabled = false;
    this.active = false;
    this.log.info({}, "run_once: beacon disabled after its run");
    clearInterval(this.timer);
    this.timer = undefined;
    void Promise.resolve(this.instance?.stop?.()).catch((err: unknown) => this.log.warn({ err }, "beacon did not stop cleanly"));
  }

  /** Sends events (drops them while stopped, or during a state run when so configured). */
  private deliver(events: readonly BeaconEvent[]): void {
    if (!this.active) return;
    if (this.spec.disableDuringStateRun && this.ctx.isBusy()) return;
    for (const e of events) {
      const data = "id" in e.data ? { ...e.data } : { ...e.data, id: this.ctx.agentId };
      this.send(beaconTag(this.ctx.agentId, this.spec.name, e.suffix), data);
    }
  }

  private send(tag: string, data: Record<string, unknown>): void {
    if (!this.active) return;
    this.emitting = this.emitting
      .then(() => this.ctx.sink.emit(tag, data))
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err, tag }, "beacon event not sent"),
      );
  }

  private fail(err: unknown): void {
    const message = errorMessage(err);
    if (this.failing !== undefined) {
      this.log.debug({ err }, "beacon still failing");
      return;
    }
    this.failing = message;
    this.log.error({ err }, "beacon failed");
    this.send(beaconTag(this.ctx.agentId, this.spec.name, "error"), { id: this.ctx.agentId, beacon: this.spec.name, type: this.spec.type, error: message });
  }

  private recover(): void {
    if (this.failing === undefined) return;
    const was = this.failing;
    this.failing = undefined;
    this.log.info({ error: was }, "beacon recovered");
    this.send(beaconTag(this.ctx.agentId, this.spec.name, "recovered"), { id: this.ctx.agentId, beacon: this.spec.name, type: this.spec.type, error: was });
  }
}
