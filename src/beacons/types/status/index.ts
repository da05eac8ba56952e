/**
 * `status`: a periodic heartbeat with host facts. Options name the functions to run, each with the
 * keys of its result to keep (`- loadavg: ['1-min']`, `all` or nothing for everything); with no
 * options all of them run. As Salt, the tag suffix is the time (`salt/beacon/<id>/status/<ISO time>`)
 * and the results nest under `data`: `{data: {loadavg: {...}, meminfo: {...}, uptime: {...}}}`.
 */
import { readFile } from "node:fs/promises";
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconDeps } from "../../plugin.js";
import { loadAverages, readMeminfo } from "../host.js";

const FUNCTIONS: Record<string, () => Promise<Record<string, unknown>>> = {
  loadavg: async () => {
    const l = loadAverages();
    return { "1-min": l["1m"], "5-min": l["5m"], "15-min": l["15m"] };
  },
  meminfo: async () => readMeminfo(),
  uptime: async () => {
    const seconds = Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
    const since = new Date(Date.now() - seconds * 1000);
    return { seconds: Math.floor(seconds), since_iso: since.toISOString(), since_t: Math.floor(since.getTime() / 1000), days: Math.floor(seconds / 86400) };
  },
};

export interface StatusConfig {
  /** Function -> keys to keep (`undefined`: all). Default: every function, all keys. */
  readonly functions: Readonly<Record<string, readonly string[] | undefined>>;
}

function parse(f: Fields): StatusConfig {
  f.onlyKeys(Object.keys(FUNCTIONS));
  if (f.keys().length === 0) return { functions: Object.fromEntries(Object.keys(FUNCTIONS).map((k) => [k, undefined])) };
  const functions: Record<string, readonly string[] | undefined> = {};
  for (const k of f.keys()) {
    const keys = f.strings(k);
    functions[k] = keys.length === 0 || keys.includes("all") ? undefined : keys;
  }
  return { functions };
}

function pick(v: Record<string, unknown>, keys: readonly string[] | undefined): Record<string, unknown> {
  return keys ? Object.fromEntries(keys.filter((k) => k in v).map((k) => [k, v[k]])) : v;
}

export const statusPlugin = definePlugin({
  type: "status",
  parse,
  create: (config: StatusConfig, deps: BeaconDeps) => ({
    async poll() {
      const data: Record<string, unknown> = {};
      for (const [fn, keys] of Object.entries(config.functions)) data[fn] = pick(await FUNCTIONS[fn]!(), keys);
      return [{ suffix: deps.now().toISOString(), data: { data } }];
    },
  }),
});
