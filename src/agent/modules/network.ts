/** `network.ip_addrs` (and `network.ip_addrs6`), from the host's interfaces. */
import { networkInterfaces } from "node:os";
import { ModuleArgumentError } from "../../core/errors.js";
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** Which addresses to list. */
export interface AddrFilter {
  readonly includeLoopback?: boolean;
  readonly interface?: string;
  /** IPv4 CIDR such as `10.0.0.0/8`. */
  readonly cidr?: string;
}

const SIG = {
  params: ["interface", "include_loopback", "cidr"],
  defaults: { interface: null, include_loopback: false, cidr: null },
};

/** The `network` module. */
export const networkModule: ModuleFunctions = {
  ip_addrs: define("network.ip_addrs", SIG, (a) => {
    const cidr = a.optStr("cidr");
    if (cidr !== undefined && parseCidr(cidr) === undefined)
      throw new ModuleArgumentError(a.fun, `argument 'cidr' is not an IPv4 CIDR: ${cidr}`);
    const iface = a.optStr("interface");
    return ipAddrs("IPv4", {
      includeLoopback: a.bool("include_loopback"),
      ...(iface ? { interface: iface } : {}),
      ...(cidr ? { cidr } : {}),
    });
  }),
  ip_addrs6: define(
    "network.ip_addrs6",
    { params: ["interface", "include_loopback"], defaults: { interface: null, include_loopback: false } },
    (a) => {
      const iface = a.optStr("interface");
      return ipAddrs("IPv6", {
        includeLoopback: a.bool("include_loopback"),
        ...(iface ? { interface: iface } : {}),
      });
    },
  ),
};

/** Sorted unique addresses of one family. */
export function ipAddrs(family: "IPv4" | "IPv6", f: AddrFilter = {}): string[] {
  const range = f.cidr !== undefined ? parseCidr(f.cidr) : undefined;
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (f.interface !== undefined && name !== f.interface) continue;
    for (const a of addrs ?? []) {
      if (a.family !== family || (a.internal && !f.includeLoopback)) continue;
      if (range && !inRange(a.address, range)) continue;
      out.add(a.address);
    }
  }
  return [...out].sort();
}

function parseCidr(cidr: string): { net: number; bits: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  const net = m ? ipv4ToInt(m[1]!) : undefined;
  const bits = Number(m?.[2]);
  return net === undefined || bits > 32 ? undefined : { net, bits };
}

function inRange(addr: string, r: { net: number; bits: number }): boolean {
  const ip = ipv4ToInt(addr);
  if (ip === undefined) return false;
  const mask = r.bits === 0 ? 0 : (~0 << (32 - r.bits)) >>> 0;
  return (ip & mask) >>> 0 === (r.net & mask) >>> 0;
}

function ipv4ToInt(s: string): number | undefined {
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}
