/**
 * The `beacons` execution module, with Salt's names and results: list, add, modify, delete,
 * enable, disable, enable_beacon, disable_beacon, save. Each function takes `(args, kwargs)` and
 * returns what Salt returns (`{result, comment}`; `list` a YAML string, or the map with `return_yaml=false`).
 */
import { rename, writeFile } from "node:fs/promises";
import { ConfigError, errorMessage } from "../core/index.js";
import { parseYaml, toYaml } from "../config/index.js";
import type { BeaconRegistry } from "./plugin.js";
import { BeaconNotFoundError, type BeaconScheduler } from "./scheduler.js";
import { compileBeacon, objectSource } from "./spec.js";
import { builtinBeacons } from "./types/index.js";

/** An execution-module function: positional and keyword arguments in, a JSON result out. */
export type ModuleFunction = (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => Promise<unknown>;

export interface BeaconsModuleOptions {
  scheduler: BeaconScheduler;
  /** The beacons file that `save` writes. Without it, `save` fails. */
  file?: string;
  registry?: BeaconRegistry;
}

/** Salt's result of a change. */
export interface ModuleResult {
  result: boolean;
  comment: string;
}

/** The beacons file content of the current configuration (Salt's list form). */
export function beaconsDocument(scheduler: BeaconScheduler): Record<string, unknown> {
  const beacons: Record<string, unknown> = {};
  if (!scheduler.enabled) beacons["enabled"] = false;
  for (const b of scheduler.list()) {
    const options = Object.entries(b.raw)
      .filter(([k]) => k !== "enabled")
      .map(([k, v]) => ({ [k]: v }));
    if (!b.enabled) options.push({ enabled: false });
    beacons[b.name] = options;
  }
  return { beacons };
}

/** Creates the module's functions. */
export function createBeaconsModule(opts: BeaconsModuleOptions): Record<string, ModuleFunction> {
  const { scheduler } = opts;
  const registry = opts.registry ?? builtinBeacons;
  const arg = (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, i: number, key: string): unknown => args[i] ?? kwargs[key];
  const nameOf = (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): string => {
    const name = arg(args, kwargs, 0, "name");
    if (typeof name !== "string" || !name) throw new TypeError("a beacon name is required");
    return name;
  };
  const specOf = (name: string, data: unknown) => {
    const value = typeof data === "string" ? parseYaml(data, "<beacon_data>").value : data;
    return compileBeacon(name, value, objectSource(value, "beacon_data"), [name], registry);
  };
  const attempt = async (ok: string, fn: () => Promise<void>): Promise<ModuleResult> => {
    try {
      await fn();
      return { result: true, comment: ok };
    } catch (err) {
      if (err instanceof BeaconNotFoundError || err instanceof ConfigError) return { result: false, comment: err.message };
      throw err;
    }
  };
  const exists = (name: string) => scheduler.list().some((b) => b.name === name);

  return {
    list: async (args, kwargs) => {
      const doc = beaconsDocument(scheduler)["beacons"] as Record<string, unknown>;
      if (kwargs["return_yaml"] === false) return doc;
      return Object.keys(doc).length ? toYaml(doc) : "beacons: {}\n";
    },
    add: async (args, kwargs) => {
      const name = nameOf(args, kwargs);
      if (exists(name)) return { result: false, comment: `Beacon ${name} is already configured.` };
      return attempt(`Added beacon: ${name}.`, () => scheduler.add(specOf(name, arg(args, kwargs, 1, "beacon_data"))));
    },
    modify: async (args, kwargs) => {
      const name = nameOf(args, kwargs);
      if (!exists(name)) return { result: false, comment: `Beacon ${name} is not configured.` };
      return attempt(`Modified beacon: ${name}.`, () => scheduler.modify(specOf(name, arg(args, kwargs, 1, "beacon_data"))));
    },
    delete: async (args, kwargs) => {
      const name = nameOf(args, kwargs);
      return attempt(`Deleted beacon: ${name}.`, () => scheduler.delete(name));
    },
    enable: async (args, kwargs) => {
      const name = arg(args, kwargs, 0, "name");
      if (typeof name === "string") return attempt(`Enabled beacon ${name} on minion.`, () => scheduler.enable(name));
      return attempt("Enabled beacons on minion.", () => scheduler.enable());
    },
    disable: async (args, kwargs) => {
      const name = arg(args, kwargs, 0, "name");
      if (typeof name === "string") return attempt(`Disabled beacon ${name} on minion.`, () => scheduler.disable(name));
      return attempt("Disabled beacons on minion.", () => scheduler.disable());
    },
    enable_beacon: async (args, kwargs) => {
      const name = nameOf(args, kwargs);
      return attempt(`Enabled beacon ${name} on minion.`, () => scheduler.enable(name));
    },
    disable_beacon: async (args, kwargs) => {
      const name = nameOf(args, kwargs);
      return attempt(`Disabled beacon ${name} on minion.`, () => scheduler.disable(name));
    },
    save: async () => {
      if (!opts.file) return { result: false, comment: "Unable to write to beacons file: no beacons file is configured." };
      const tmp = `${opts.file}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, toYaml(beaconsDocument(scheduler)));
        await rename(tmp, opts.file);
      } catch (err) {
        return { result: false, comment: `Unable to write to beacons file at ${opts.file}. Check permissions. (${errorMessage(err)})` };
      }
      return { result: true, comment: `Beacons saved to ${opts.file}.` };
    },
  };
}
