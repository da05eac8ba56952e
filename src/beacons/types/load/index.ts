/**
 * `load`: the load averages against `[low, high]` ranges (Salt: `averages: {1m: [0.0, 2.0], ...}`).
 * Fires while an average is outside its range; with `onchangeonly`, only when one crosses a bound
 * since the last firing. `emitatstartup` (default true) lets the first probe fire.
 * Tag `salt/beacon/<id>/load/`, data `{'1m', '5m', '15m'}`.
 */
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconInstance } from "../../plugin.js";
import { loadAverages } from "../host.js";

type Window = "1m" | "5m" | "15m";
const WINDOWS: readonly Window[] = ["1m", "5m", "15m"];

export interface LoadConfig {
  /** Ranges by window; windows left out are not checked. */
  readonly averages: Readonly<Partial<Record<Window, readonly [number, number]>>>;
  /** Default false. */
  readonly onchangeonly: boolean;
  /** Default true. */
  readonly emitatstartup: boolean;
}

function parse(f: Fields): LoadConfig {
  const avg: Fields = f.requiredMap("averages");
  avg.onlyKeys(WINDOWS);
  const averages: Partial<Record<Window, readonly [number, number]>> = {};
  for (const w of WINDOWS) {
    if (!avg.has(w)) continue;
    const v = avg.get(w);
    const [low, high] = Array.isArray(v) && v.length === 2 ? (v as unknown[]) : [];
    if (typeof low !== "number" || typeof high !== "number" || low > high) return avg.fail(w, "must be a [low, high] pair of numbers, low first");
    averages[w] = [low, high];
  }
  return { averages, onchangeonly: f.bool("onchangeonly", false), emitatstartup: f.bool("emitatstartup", true) };
}

function create(config: LoadConfig): BeaconInstance {
  let last: Record<Window, number> | undefined;
  const outside = (w: Window, v: number) => {
    const r = config.averages[w];
    return r !== undefined && (v < r[0] || v > r[1]);
  };
  const crossed = (w: Window, v: number, prev: number) => {
    const r = config.averages[w];
    return r !== undefined && ((v > r[1] && prev <= r[1]) || (v < r[0] && prev >= r[0]));
  };
  return {
    async poll() {
      const now = loadAverages();
      const prev = last;
      if (!prev) {
        last = now;
        if (!config.emitatstartup) return [];
      }
      const fire = WINDOWS.some((w) => (config.onchangeonly && prev ? crossed(w, now[w], prev[w]) : outside(w, now[w])));
      if (!fire) return [];
      last = now;
      return [{ data: { ...now } }];
    },
  };
}

export const loadPlugin = definePlugin({ type: "load", options: ["averages", "onchangeonly", "emitatstartup"], parse, create });
