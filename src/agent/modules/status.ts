/** `status.loadavg|meminfo|uptime`, in Salt's shapes. */
import { readFile } from "node:fs/promises";
import { loadavg, uptime } from "node:os";
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** The `status` module. */
export const statusModule: ModuleFunctions = {
  loadavg: define("status.loadavg", { params: [] }, () => {
    const [one, five, fifteen] = loadavg();
    return { "1-min": one, "5-min": five, "15-min": fifteen };
  }),
  meminfo: define("status.meminfo", { params: [] }, async () =>
    parseMeminfo(await readFile("/proc/meminfo", "utf8")),
  ),
  uptime: define("status.uptime", { params: [] }, () => uptimeInfo(uptime(), new Date())),
};

/** Parses /proc/meminfo as Salt does: `{MemTotal: {value: "16318820", unit: "kB"}}`. */
export function parseMeminfo(text: string): Record<string, { value: string; unit?: string }> {
  const out: Record<string, { value: string; unit?: string }> = {};
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(?:\s+(\S+))?/.exec(line);
    if (m) out[m[1]!] = m[3] ? { value: m[2]!, unit: m[3] } : { value: m[2]! };
  }
  return out;
}

/** Salt's status.uptime fields from a number of seconds and the current time. */
export function uptimeInfo(seconds: number, now: Date): Record<string, unknown> {
  const secs = Math.floor(seconds);
  const since = new Date(now.getTime() - secs * 1000);
  const days = Math.floor(secs / 86400);
  const hours = Math.floor((secs % 86400) / 3600);
  const minutes = Math.floor((secs % 3600) / 60);
  return {
    seconds: secs,
    since_iso: since.toISOString(),
    since_t: Math.floor(since.getTime() / 1000),
    days,
    time: `${hours}:${String(minutes).padStart(2, "0")}`,
  };
}
