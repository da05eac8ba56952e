/** Small readers of host facts from /proc, shared by several beacon types. */
import { readdir, readFile } from "node:fs/promises";
import { freemem, loadavg, totalmem } from "node:os";
import { basename } from "node:path";

/** /proc/meminfo as `{MemTotal: {value, unit}}`, Salt's `status.meminfo` shape. */
export async function readMeminfo(): Promise<Record<string, { value: string; unit?: string }>> {
  const out: Record<string, { value: string; unit?: string }> = {};
  const text = await readFile("/proc/meminfo", "utf8");
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(?:\s+(\S+))?/.exec(line);
    if (m) out[m[1]!] = m[3] ? { value: m[2]!, unit: m[3] } : { value: m[2]! };
  }
  return out;
}

function kb(info: Record<string, { value: string }>, key: string): number | undefined {
  const v = info[key]?.value;
  return v === undefined ? undefined : Number(v);
}

/** Memory in use, percent of total (total minus available, as psutil computes it). */
export async function memoryPercent(): Promise<number> {
  let total = totalmem();
  let avail = freemem();
  try {
    const info = await readMeminfo();
    total = kb(info, "MemTotal") ?? total;
    avail = kb(info, "MemAvailable") ?? avail;
  } catch {
    // not Linux: os.freemem is the best we have
  }
  return total === 0 ? 0 : round2(((total - avail) / total) * 100);
}

/** Swap in use, percent of total (0 without swap). */
export async function swapPercent(): Promise<number> {
  const info = await readMeminfo();
  const total = kb(info, "SwapTotal") ?? 0;
  const free = kb(info, "SwapFree") ?? 0;
  return total === 0 ? 0 : round2(((total - free) / total) * 100);
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverages(): { "1m": number; "5m": number; "15m": number } {
  const [a = 0, b = 0, c = 0] = loadavg();
  return { "1m": a, "5m": b, "15m": c };
}

/** Names of running processes: each one's `comm` and the base name of its argv[0] (as psutil). */
export async function processNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
    try {
      const [comm, cmdline] = await Promise.all([readFile(`/proc/${pid}/comm`, "utf8"), readFile(`/proc/${pid}/cmdline`, "utf8")]);
      names.add(comm.trim());
      const argv0 = cmdline.split("\0")[0];
      if (argv0) names.add(basename(argv0));
    } catch {
      // the process ended while we looked
    }
  }
  return names;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
