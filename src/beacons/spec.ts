/**
 * beacons.yaml -> compiled, frozen beacon specs. Salt's list-of-maps schema and the dict form:
 *
 * ```yaml
 * beacons:
 *   diskusage:                  # list of one-key maps, merged
 *     - '/': 90%
 *     - interval: 120
 *   web_health:                 # dict form; instance name with its type in beacon_module
 *     beacon_module: http_status
 *     sites: { api: { url: "http://127.0.0.1:8080/health" } }
 * ```
 * An invalid beacon is reported (file, line, field path) and skipped; the valid ones still run.
 */
import { ConfigError, type SourceLocation } from "../core/index.js";
import { formatPath, type FieldPath, type YamlSource } from "../config/index.js";
import { Fields, isPlainObject, OptionProblem, suggest } from "./fields.js";
import type { BeaconPlugin, BeaconRegistry } from "./plugin.js";
import { builtinBeacons } from "./types/index.js";

/** Default `interval`, in seconds (Salt's default). */
export const DEFAULT_INTERVAL_S = 10;
/** Smallest `interval` accepted, in seconds. */
export const MIN_INTERVAL_S = 1;
/** Longest a poll may take before it counts as failed, in milliseconds (shorter when the interval is). */
export const MAX_POLL_TIMEOUT_MS = 60_000;
/**
 * Shortest poll timeout, in milliseconds. A 1 s interval must not mean a 1 s limit: a probe that runs
 * a check command on a loaded host can take longer; ticks are skipped while a poll is in flight.
 */
export const MIN_POLL_TIMEOUT_MS = 10_000;
/** The options every beacon accepts; the rest go to the type's parser. */
export const COMMON_OPTIONS = ["interval", "enabled", "run_once", "disable_during_state_run", "beacon_module"] as const;

/** One configured beacon, compiled. */
export interface BeaconSpec {
  /** Instance name: the key in beacons.yaml; the tag's fourth segment. */
  readonly name: string;
  /** Beacon type: `beacon_module`, else the name. */
  readonly type: string;
  /** `interval` in milliseconds. Default 10 s; at least 1 s from a file. */
  readonly intervalMs: number;
  /** Longest one poll may run before it is reported as failed: the interval, at least 10 s, at most 60 s. */
  readonly timeoutMs: number;
  /** `enabled`, default true. */
  readonly enabled: boolean;
  /** `run_once`: poll once, then stop. Default false. */
  readonly runOnce: boolean;
  /** `disable_during_state_run`: skip (and drop events) while the agent runs a job. Default false. */
  readonly disableDuringStateRun: boolean;
  /** The type's parsed config. */
  readonly config: unknown;
  /** The options as written (merged map), for `beacons.list` and `beacons.save`. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Where it was defined. */
  readonly location?: SourceLocation;
}

/** Options of compileBeacons. */
export interface CompileBeaconsOptions {
  /** Beacon types (default: the built-in ones). */
  registry?: BeaconRegistry;
}

/** The result of compiling a beacons file. */
export interface CompiledBeacons {
  readonly beacons: BeaconSpec[];
  readonly errors: ConfigError[];
  /** Salt's global switch `beacons: {enabled: false}`; default true. */
  readonly enabled: boolean;
}

/** Compiles a parsed beacons file; invalid beacons are left out and listed in `errors`. */
export function compileBeacons(source: YamlSource, opts: CompileBeaconsOptions = {}): CompiledBeacons {
  const registry = opts.registry ?? builtinBeacons;
  const top = source.value;
  if (top === null || top === undefined) return { beacons: [], errors: [], enabled: true };
  if (!isPlainObject(top)) return { beacons: [], errors: [source.error([], "must be a map with a beacons: key")], enabled: true };
  const extra = Object.keys(top).filter((k) => k !== "beacons");
  const errors = extra.map((k) => source.error([k], `is not a top-level key of a beacons file${suggest(k, ["beacons"])}`));
  const all = top["beacons"];
  if (all === null || all === undefined) return { beacons: [], errors, enabled: true };
  if (!isPlainObject(all)) return { beacons: [], errors: [...errors, source.error(["beacons"], "must be a map of beacon names")], enabled: true };
  let enabled = true;
  const beacons: BeaconSpec[] = [];
  for (const [name, raw] of Object.entries(all)) {
    if (name === "enabled" && typeof raw === "boolean") {
      enabled = raw;
      continue;
    }
    try {
      beacons.push(compileBeacon(name, raw, source, ["beacons", name], registry));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
    }
  }
  return { beacons, errors, enabled };
}

/** Compiles one beacon's options (list-of-maps or map) at `path`; throws ConfigError. */
export function compileBeacon(name: string, raw: unknown, source: YamlSource, path: FieldPath, registry: BeaconRegistry = builtinBeacons): BeaconSpec {
  try {
    const f = mergeOptions(raw, path);
    const plugin = pluginFor(name, f, registry);
    const intervalS = f.number("interval", DEFAULT_INTERVAL_S);
    if (intervalS < MIN_INTERVAL_S) f.fail("interval", `must be at least ${MIN_INTERVAL_S} second (got ${intervalS})`);
    const common = {
      enabled: f.bool("enabled", true),
      runOnce: f.bool("run_once", false),
      disableDuringStateRun: f.bool("disable_during_state_run", false),
    };
    const own = withoutCommon(f);
    if (plugin.options) own.onlyKeys(plugin.options);
    const config = plugin.parse(own);
    const intervalMs = Math.round(intervalS * 1000);
    const line = source.lineOf(path);
    return Object.freeze({
      name,
      type: plugin.type,
      intervalMs,
      timeoutMs: Math.min(Math.max(intervalMs, MIN_POLL_TIMEOUT_MS), MAX_POLL_TIMEOUT_MS),
      ...common,
      config: deepFreeze(config),
      raw: deepFreeze(rawMap(f)),
      location: { file: source.file, ...(line !== undefined ? { line } : {}), path: formatPath(path) },
    });
  } catch (err) {
    if (err instanceof OptionProblem) throw source.error(err.path, err.reason);
    throw err;
  }
}

/** Merges Salt's list of one-key maps into one map that remembers where each key came from. */
export function mergeOptions(raw: unknown, path: FieldPath): Fields {
  if (raw === null || raw === undefined) return Fields.of({}, path);
  if (isPlainObject(raw)) return Fields.of(raw, path);
  if (!Array.isArray(raw)) throw new OptionProblem(path, "must be a list of option maps or a map of options");
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, FieldPath>();
  raw.forEach((item, i) => {
    if (!isPlainObject(item)) throw new OptionProblem([...path, i], "must be a map like {interval: 10}");
    for (const [k, v] of Object.entries(item)) {
      if (origin.has(k)) throw new OptionProblem([...path, i, k], `is given twice (first in ${formatPath(origin.get(k)!)})`);
      merged[k] = v;
      origin.set(k, [...path, i, k]);
    }
  });
  return new Fields(merged, (k) => origin.get(k) ?? [...path, k], path);
}

function pluginFor(name: string, f: Fields, registry: BeaconRegistry): BeaconPlugin {
  const type = f.has("beacon_module") ? f.string("beacon_module") : name;
  const plugin = registry.get(type);
  if (plugin) return plugin;
  const reason = `names an unknown beacon type ${JSON.stringify(type)}${suggest(type, [...registry.keys()])}`;
  throw new OptionProblem(f.has("beacon_module") ? f.pathOf("beacon_module") : f.path, reason);
}

function withoutCommon(f: Fields): Fields {
  const own: Record<string, unknown> = {};
  for (const k of f.keys()) if (!(COMMON_OPTIONS as readonly string[]).includes(k)) own[k] = f.get(k);
  return new Fields(own, (k) => f.pathOf(k), f.path);
}

function rawMap(f: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of f.keys()) out[k] = structuredClone(f.get(k));
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v) && !(v instanceof RegExp)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** A YamlSource over a value that did not come from a file (runtime `beacons.add`): errors name the path only. */
export function objectSource(value: unknown, file = "<runtime>"): YamlSource {
  return {
    file,
    value,
    lineOf: () => undefined,
    error: (path, reason) => new ConfigError({ file, ...(path.length ? { path: formatPath(path) } : {}) }, reason),
  };
}
