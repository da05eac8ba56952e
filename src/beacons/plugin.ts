/**
 * The shape every beacon type shares: a plugin parses its options once into a typed config and
 * creates instances that probe the host. Poll-based beacons answer `poll()` on each interval;
 * push-based ones (inotify, journald) call `deps.emit` from `start()` and stop in `stop()`.
 */
import type { Logger, ServiceManager } from "../core/index.js";
import type { Fields } from "./fields.js";

/**
 * One firing of a beacon. The tag becomes `salt/beacon/<id>/<name>/<suffix>`; without a suffix it
 * ends in `/` as in Salt. The scheduler adds `id` to the data.
 */
export interface BeaconEvent {
  readonly suffix?: string;
  readonly data: Record<string, unknown>;
}

/** What an instance gets from the scheduler. */
export interface BeaconDeps {
  /** The host's service manager (the `service` beacon needs it). */
  readonly serviceManager?: ServiceManager;
  /** A child logger for this beacon. */
  readonly log: Logger;
  /** Sends events at once (push-based beacons). Events are dropped while the beacon is disabled or paused. */
  emit(events: readonly BeaconEvent[]): void;
  /** Reports a failure of a push-based beacon (the same once-per-state-change rule as a failing poll). */
  fail(err: unknown): void;
  /** The clock. */
  now(): Date;
}

/** A running beacon. */
export interface BeaconInstance {
  /** One probe; resolves to the events to fire now (often none). */
  poll(): Promise<BeaconEvent[]>;
  /** Starts watchers (push-based beacons). */
  start?(): Promise<void> | void;
  /** Stops watchers and frees resources; must be safe to call twice. */
  stop?(): Promise<void> | void;
}

/** A beacon type. */
export interface BeaconPlugin<C = unknown> {
  /** The type name as written in beacons.yaml (or in `beacon_module`). */
  readonly type: string;
  /** Type-specific options; others are errors. Leave out for types whose keys are data (diskusage). */
  readonly options?: readonly string[];
  /** Parses the type-specific options (the common ones are removed). Throws OptionProblem. */
  parse(f: Fields): C;
  /** Creates an instance from a parsed config. */
  create(config: C, deps: BeaconDeps): BeaconInstance;
}

/** Erases a plugin's config type so that plugins of all types fit in one registry. */
export function definePlugin<C>(p: BeaconPlugin<C>): BeaconPlugin {
  return {
    type: p.type,
    ...(p.options ? { options: p.options } : {}),
    parse: (f) => p.parse(f),
    create: (config, deps) => p.create(config as C, deps),
  };
}

/** A registry of beacon types by name. */
export type BeaconRegistry = ReadonlyMap<string, BeaconPlugin>;
