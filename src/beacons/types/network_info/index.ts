/**
 * `network_info`: interface counters from /proc/net/dev against thresholds (Salt's schema:
 * `interfaces: {eth0: {type: equal|greater|less, bytes_sent: 100000, ...}}`). Fires one event per
 * interface where a configured counter meets its threshold: tag `salt/beacon/<id>/network_info/`,
 * data `{interface, network_info: {bytes_sent, bytes_recv, packets_sent, packets_recv, errin, errout, dropin, dropout}}`.
 */
import { readFile } from "node:fs/promises";
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconEvent } from "../../plugin.js";

export const COUNTERS = ["bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "errin", "errout", "dropin", "dropout"] as const;
export type Counter = (typeof COUNTERS)[number];
const COMPARE = { equal: (a: number, b: number) => a === b, greater: (a: number, b: number) => a > b, less: (a: number, b: number) => a < b };

export interface InterfaceWatch {
  readonly name: string;
  /** How counters compare with thresholds. Default `equal` (Salt's). */
  readonly type: keyof typeof COMPARE;
  readonly thresholds: Readonly<Partial<Record<Counter, number>>>;
}
export interface NetworkInfoConfig {
  readonly interfaces: readonly InterfaceWatch[];
}

function parse(f: Fields): NetworkInfoConfig {
  const ifs = f.requiredMap("interfaces");
  return {
    interfaces: ifs.keys().map((name) => {
      const i = ifs.map(name);
      i.onlyKeys(["type", ...COUNTERS]);
      const type = i.has("type") ? i.string("type") : "equal";
      if (!Object.hasOwn(COMPARE, type)) i.fail("type", 'must be "equal", "greater" or "less"');
      const thresholds: Partial<Record<Counter, number>> = {};
      for (const c of COUNTERS) if (i.has(c)) thresholds[c] = i.requiredNumber(c, { min: 0 });
      if (Object.keys(thresholds).length === 0) i.fail(undefined, `needs at least one of ${COUNTERS.join(", ")}`);
      return { name, type: type as keyof typeof COMPARE, thresholds };
    }),
  };
}

/** Counters of each interface, from /proc/net/dev. */
export async function readNetDev(text?: string): Promise<Map<string, Record<Counter, number>>> {
  const out = new Map<string, Record<Counter, number>>();
  for (const line of (text ?? (await readFile("/proc/net/dev", "utf8"))).split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    const at = (i: number) => n[i] ?? 0;
    out.set(m[1]!, {
      bytes_recv: at(0), packets_recv: at(1), errin: at(2), dropin: at(3),
      bytes_sent: at(8), packets_sent: at(9), errout: at(10), dropout: at(11),
    });
  }
  return out;
}

export const networkInfoPlugin = definePlugin({
  type: "network_info",
  options: ["interfaces"],
  parse,
  create: (config: NetworkInfoConfig) => ({
    async poll() {
      const stats = await readNetDev();
      const out: BeaconEvent[] = [];
      for (const w of config.interfaces) {
        const s = stats.get(w.name);
        if (!s) continue;
        const hit = Object.entries(w.thresholds).some(([c, limit]) => COMPARE[w.type](s[c as Counter], limit));
        if (hit) out.push({ data: { interface: w.name, network_info: { ...s } } });
      }
      return out;
    },
  }),
});
