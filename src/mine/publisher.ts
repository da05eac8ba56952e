/**
 * The agent side of the mine: runs `mine_functions` on start and every interval and stores each
 * result (awaiting the store's acknowledgement). A failing function is logged, reported in the
 * summary and skipped; the others still run. Optionally emits `salt/mine/<id>/<fun>/changed` when a
 * stored value differs from the previous one.
 */
import { errorMessage, silentLogger, type Logger } from "../core/index.js";
import type { MineFunctionSpec } from "../config/index.js";
import { parseMineFunctions, type MineCall } from "./functions.js";
import { mineKey, type MineEntry, type MineStore } from "./store.js";

/** Runs one execution function, e.g. the agent executor's `network.ip_addrs`. */
export type MineRunner = (fun: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => Promise<unknown>;

/** Options of createMinePublisher. */
export interface MinePublisherOptions {
  readonly agentId: string;
  /** `mine_functions` of agent.yaml, as compiled. */
  readonly functions: Readonly<Record<string, MineFunctionSpec>>;
  /** Time between updates (agent.yaml `mine_interval`). 0 = only on start and on request. */
  readonly intervalMs: number;
  readonly run: MineRunner;
  readonly store: MineStore;
  /** Default silent. */
  readonly log?: Logger;
  /** When given, `salt/mine/<id>/<fun>/changed` is emitted on a changed value (`mine_change_events`; off by default). */
  readonly emitChange?: (tag: string, data: Record<string, unknown>) => Promise<unknown>;
  /** Injectable clock for stamps. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /**
   * The names this agent has values stored under, from someone who may list the bucket (the service:
   * MineClient.names). mine.flush deletes these besides the names it knows (configured, or stored
   * in this life); an agent's NATS user may not list the bucket. Default: none.
   */
  readonly storedNames?: () => Promise<readonly string[]>;
}

/** What one update did. */
export interface MineUpdateSummary {
  /** Names stored. */
  readonly stored: string[];
  /** Functions that failed (not stored). */
  readonly failed: { readonly name: string; readonly fun: string; readonly error: string }[];
}

/** The running publisher. */
export interface MinePublisher {
  readonly agentId: string;
  /** Runs every function now, then every interval. Resolves with the first update's summary. */
  start(): Promise<MineUpdateSummary>;
  /** `mine.update`: runs every function now; `clear` flushes this agent's entries first. */
  update(opts?: { clear?: boolean }): Promise<MineUpdateSummary>;
  /** `mine.send`: runs `fun` (default `name`) and stores it under `name`. Throws when the function fails. */
  send(name: string, fun: string | undefined, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Promise<MineEntry>;
  /** `mine.delete`: removes one entry of this agent; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** `mine.flush`: removes every entry of this agent; returns how many. */
  flush(): Promise<number>;
  /** Stops the interval and waits for a running update. Idempotent. */
  stop(): Promise<void>;
}

/** Creates a publisher; call `start()` to run it. */
export function createMinePublisher(opts: MinePublisherOptions): MinePublisher {
  return new Publisher(opts);
}

class Publisher implements MinePublisher {
  readonly agentId: string;
  private readonly calls: MineCall[];
  private readonly log: Logger;
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<MineUpdateSummary> | undefined;
  private stopping: Promise<void> | undefined;
  /** Last stored value per name, as JSON, for change events. */
  private readonly last = new Map<string, string>();
  /** Names stored (or deleted) in this life, for mine.flush without a listing. */
  private readonly names = new Set<string>();

  constructor(private readonly opts: MinePublisherOptions) {
    this.agentId = opts.agentId;
    this.calls = parseMineFunctions(opts.functions);
    this.log = (opts.log ?? silentLogger).child({ component: "mine", agent: opts.agentId });
    this.clock = opts.clock ?? (() => new Date());
  }

  async start(): Promise<MineUpdateSummary> {
    const first = await this.update();
    if (this.opts.intervalMs > 0 && !this.stopping && !this.timer) {
      this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
      this.timer.unref();
    }
    return first;
  }

  private tick(): void {
    if (this.running) {
      this.log.debug({}, "mine update still running; interval skipped");
      return;
    }
    this.update().catch((err: unknown) => this.log.error({ err }, "mine update failed"));
  }

  update(opts: { clear?: boolean } = {}): Promise<MineUpdateSummary> {
    const run = (this.running ?? Promise.resolve()).then(() => this.runAll(opts.clear ?? false));
    const tracked = run.finally(() => {
      if (this.running === tracked) this.running = undefined;
    });
    this.running = tracked;
    return tracked;
  }

  private async runAll(clear: boolean): Promise<MineUpdateSummary> {
    if (clear) await this.flush();
    const summary: MineUpdateSummary = { stored: [], failed: [] };
    for (const call of this.calls) {
      try {
        await this.store(call, await this.opts.run(call.fun, call.args, call.kwargs));
        summary.stored.push(call.name);
      } catch (err) {
        const error = errorMessage(err);
        this.log.warn({ err, fun: call.fun, name: call.name }, `mine function ${call.name} failed; skipped`);
        summary.failed.push({ name: call.name, fun: call.fun, error });
      }
    }
    return summary;
  }

  async send(name: string, fun: string | undefined, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Promise<MineEntry> {
    const { allow_tgt, allow_tgt_type, ...rest } = kwargs;
    const call: MineCall = {
      name,
      fun: fun ?? name,
      args,
      kwargs: rest,
      ...(allow_tgt !== undefined ? { allow_tgt: allow_tgt as string | readonly string[] } : {}),
      ...(allow_tgt_type !== undefined ? { allow_tgt_type: String(allow_tgt_type) } : {}),
    };
    return this.store(call, await this.opts.run(call.fun, call.args, call.kwargs));
  }

  private async store(call: MineCall, value: unknown): Promise<MineEntry> {
    const entry: MineEntry = {
      id: this.agentId,
      fun: call.name,
      ...(call.fun !== call.name ? { mine_function: call.fun } : {}),
      value: value ?? null,
      stamp: this.clock().toISOString(),
      interval_s: this.opts.intervalMs / 1000,
      ...(call.allow_tgt !== undefined ? { allow_tgt: call.allow_tgt } : {}),
      ...(call.allow_tgt_type !== undefined ? { allow_tgt_type: call.allow_tgt_type } : {}),
    };
    const key = mineKey(this.agentId, call.name);
    this.names.add(call.name);
    if (this.opts.emitChange && !this.last.has(call.name)) await this.rememberStored(key, call.name);
    await this.opts.store.put(key, entry);
    await this.maybeEmitChange(entry);
    return entry;
  }

  /** Reads the value stored before this run (e.g. by the agent's previous life) for change detection. */
  private async rememberStored(key: string, name: string): Promise<void> {
    const prev = await this.opts.store.get(key);
    if (prev) this.last.set(name, JSON.stringify(prev.value.value ?? null));
  }

  private async maybeEmitChange(entry: MineEntry): Promise<void> {
    if (!this.opts.emitChange) return;
    const json = JSON.stringify(entry.value);
    const before = this.last.get(entry.fun);
    this.last.set(entry.fun, json);
    if (before === json) return;
    const tag = `salt/mine/${this.agentId}/${entry.fun}/changed`;
    try {
      await this.opts.emitChange(tag, { id: this.agentId, fun: entry.fun, stamp: entry.stamp, first: before === undefined, value: entry.value });
    } catch (err) {
      this.log.warn({ err, tag }, "mine change event not sent");
    }
  }

  async delete(name: string): Promise<boolean> {
    const key = mineKey(this.agentId, name);
    const had = (await this.opts.store.get(key)) !== undefined;
    if (had) await this.opts.store.delete(key);
    this.last.delete(name);
    return had;
  }

  /** Deletes by name, never by listing: the agent's own keys are all its NATS user may touch. */
  async flush(): Promise<number> {
    const names = new Set([...this.calls.map((c) => c.name), ...this.names]);
    if (this.opts.storedNames) {
      try {
        for (const n of await this.opts.storedNames()) names.add(n);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, "mine.flush: stored names not known from the service; flushing the configured and sent names only");
      }
    }
    const deleted = await Promise.all([...names].map((n) => this.delete(n)));
    this.last.clear();
    return deleted.filter(Boolean).length;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      await this.running?.catch(() => undefined);
    })();
    return this.stopping;
  }
}
