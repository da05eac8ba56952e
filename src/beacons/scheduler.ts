/**
 * The beacon scheduler: runs each beacon on its own interval, independently of the others.
 * A slow or hanging probe never blocks another beacon: each poll has a timeout and a beacon's next
 * tick is skipped while its poll is in flight. See slot.ts for the failure-reporting rule.
 */
import { ReactorError, ErrorCode, silentLogger, type EventSink, type Logger, type ServiceManager } from "../core/index.js";
import type { BeaconRegistry } from "./plugin.js";
import { BeaconSlot } from "./slot.js";
import type { BeaconSpec } from "./spec.js";
import { builtinBeacons } from "./types/index.js";

/** A runtime change named a beacon that does not exist (or already exists). */
export class BeaconNotFoundError extends ReactorError {
  constructor(
    readonly beacon: string,
    reason = `beacon ${JSON.stringify(beacon)} is not configured`,
  ) {
    super(ErrorCode.Config, reason);
  }
}

export interface BeaconSchedulerOptions {
  /** The agent's id: the third segment of every beacon tag, and `id` in the data. */
  agentId: string;
  beacons: readonly BeaconSpec[];
  sink: EventSink;
  deps?: {
    serviceManager?: ServiceManager;
    /** True while the agent runs a state job (for `disable_during_state_run`). Default: never. */
    isBusy?: () => boolean;
    /** Told of every poll and whether it worked (metrics). */
    onRun?: (beacon: string, ok: boolean) => void;
  };
  log?: Logger;
  now?: () => Date;
  /** Beacon types (default: the built-in ones). Must know every spec's type. */
  registry?: BeaconRegistry;
  /** Salt's global switch (`beacons: {enabled: false}`). Default true. */
  enabled?: boolean;
}

/** What `list()` tells about one beacon. */
export interface BeaconStatus {
  readonly name: string;
  readonly type: string;
  readonly enabled: boolean;
  /** Seconds. */
  readonly interval: number;
  /** The error of a failing beacon, else null. */
  readonly failing: string | null;
  /** The options as configured. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface BeaconScheduler {
  /** Every configured beacon, in configuration order. */
  list(): BeaconStatus[];
  /** Whether beacons run at all (Salt's global `enabled`). */
  readonly enabled: boolean;
  /** Adds a beacon; throws BeaconNotFoundError if the name is taken. */
  add(spec: BeaconSpec): Promise<void>;
  /** Replaces a beacon's spec (restarting it); throws BeaconNotFoundError if unknown. */
  modify(spec: BeaconSpec): Promise<void>;
  /** Removes a beacon; throws BeaconNotFoundError if unknown. */
  delete(name: string): Promise<void>;
  /** Enables one beacon, or all beacons (the global switch) without a name. */
  enable(name?: string): Promise<void>;
  /** Disables one beacon, or all beacons (the global switch) without a name. */
  disable(name?: string): Promise<void>;
  /** Stops every beacon, clears all timers and watchers. Idempotent: returns the same promise. */
  stop(): Promise<void>;
}

/** Creates the scheduler and starts the enabled beacons. */
export function createBeaconScheduler(opts: BeaconSchedulerOptions): BeaconScheduler {
  const registry = opts.registry ?? builtinBeacons;
  const log = (opts.log ?? silentLogger).child({ component: "beacons" });
  const ctx = {
    agentId: opts.agentId,
    sink: opts.sink,
    log,
    ...(opts.deps?.serviceManager ? { serviceManager: opts.deps.serviceManager } : {}),
    isBusy: opts.deps?.isBusy ?? (() => false),
    onRun: opts.deps?.onRun ?? (() => undefined),
    now: opts.now ?? (() => new Date()),
  };
  const slots = new Map<string, BeaconSlot>();
  let globalEnabled = opts.enabled ?? true;
  let stopping: Promise<void> | undefined;

  const slotFor = (spec: BeaconSpec): BeaconSlot => {
    const plugin = registry.get(spec.type);
    if (!plugin) throw new BeaconNotFoundError(spec.name, `beacon ${JSON.stringify(spec.name)} has an unknown type ${JSON.stringify(spec.type)}`);
    return new BeaconSlot(spec, plugin, ctx);
  };
  const sync = (slot: BeaconSlot): Promise<void> => {
    if (slot.enabled && globalEnabled && !stopping) {
      slot.start();
      return Promise.resolve();
    }
    return slot.stop();
  };
  const get = (name: string): BeaconSlot => {
    const slot = slots.get(name);
    if (!slot) throw new BeaconNotFoundError(name);
    return slot;
  };

  for (const spec of opts.beacons) {
    if (slots.has(spec.name)) throw new BeaconNotFoundError(spec.name, `beacon ${JSON.stringify(spec.name)} is configured twice`);
    slots.set(spec.name, slotFor(spec));
  }
  for (const slot of slots.values()) void sync(slot);

  return {
    get enabled() {
      return globalEnabled;
    },
    list: () =>
      [...slots.values()].map((s) => ({
        name: s.spec.name,
        type: s.spec.type,
        enabled: s.enabled,
        interval: s.spec.intervalMs / 1000,
        failing: s.failing ?? null,
        raw: s.spec.raw,
      })),
    async add(spec) {
      if (slots.has(spec.name)) throw new BeaconNotFoundError(spec.name, `beacon ${JSON.stringify(spec.name)} already exists`);
      const slot = slotFor(spec);
      slots.set(spec.name, slot);
      await sync(slot);
    },
    async modify(spec) {
      const old = get(spec.name);
      const slot = slotFor(spec);
      await old.stop();
      slots.set(spec.name, slot);
      await sync(slot);
    },
    async delete(name) {
      const slot = get(name);
      slots.delete(name);
      await slot.stop();
    },
    async enable(name) {
      if (name === undefined) globalEnabled = true;
      else get(name).enabled = true;
      await Promise.all([...slots.values()].map(sync));
    },
    async disable(name) {
      if (name === undefined) globalEnabled = false;
      else get(name).enabled = false;
      await Promise.all([...slots.values()].map(sync));
    },
    stop() {
      stopping ??= (async () => {
        const results = await Promise.allSettled([...slots.values()].map((s) => s.stop()));
        for (const r of results) if (r.status === "rejected") log.warn({ err: r.reason }, "a beacon did not stop cleanly");
      })();
      return stopping;
    },
  };
}
