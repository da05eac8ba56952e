/**
 * `diskusage`: fires when a mount's usage reaches its threshold. Keys are mount points or regexes
 * (Salt: `^/mnt/.*`), values percentages: `{'/': '63%'}`. No tag suffix (`salt/beacon/<id>/diskusage/`),
 * data `{mount, diskusage}` with the usage in percent (a number, as Salt).
 */
import { readFile, statfs } from "node:fs/promises";
import { parsePercent, type Fields } from "../../fields.js";
import { definePlugin, type BeaconEvent, type BeaconInstance } from "../../plugin.js";

export interface DiskThreshold {
  readonly mount: string;
  /** A regex when the key is not a plain absolute path. */
  readonly pattern?: RegExp;
  readonly percent: number;
}
export interface DiskusageConfig {
  readonly thresholds: readonly DiskThreshold[];
}

function parse(f: Fields): DiskusageConfig {
  if (f.keys().length === 0) f.fail(undefined, 'needs at least one mount with a threshold, like "/": 90%');
  return {
    thresholds: f.keys().map((mount) => {
      const percent = parsePercent(f, mount);
      if (/^\/[^*^$()[\]|+?\\]*$/.test(mount)) return { mount, percent };
      try {
        return { mount, percent, pattern: new RegExp(mount.startsWith("^") ? mount : `^(?:${mount})`) };
      } catch (err) {
        return f.fail(mount, `is not a valid mount regex: ${(err as Error).message}`);
      }
    }),
  };
}

/** Mount points of the host (from /proc/self/mounts; `/` alone where that is missing). */
export async function listMounts(): Promise<string[]> {
  try {
    const text = await readFile("/proc/self/mounts", "utf8");
    return text
      .split("\n")
      .map((l) => l.split(" ")[1])
      .filter((m): m is string => !!m)
      .map((m) => m.replace(/\\040/g, " "));
  } catch {
    return ["/"];
  }
}

/** Used space of a mount in percent, as `df` computes it (used / (used + available)). */
export async function usagePercent(mount: string): Promise<number> {
  const s = await statfs(mount);
  const used = s.blocks - s.bfree;
  const total = used + s.bavail;
  return total === 0 ? 0 : Math.round((used / total) * 10000) / 100;
}

function create(config: DiskusageConfig): BeaconInstance {
  return {
    async poll() {
      const mounts = config.thresholds.some((t) => t.pattern) ? await listMounts() : [];
      const out: BeaconEvent[] = [];
      for (const t of config.thresholds) {
        for (const mount of t.pattern ? mounts.filter((m) => t.pattern!.test(m)) : [t.mount]) {
          const used = await usagePercent(mount);
          if (used >= t.percent) out.push({ data: { mount, diskusage: used } });
        }
      }
      return out;
    },
  };
}

export const diskusagePlugin = definePlugin({ type: "diskusage", parse, create });
