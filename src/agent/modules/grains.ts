/** `grains.items|get|item|ls`: detected facts about the host, with the config's static grains over them. */
import { readFile } from "node:fs/promises";
import { arch, cpus, hostname, release, totalmem, type } from "node:os";
import { detectFqdn } from "../../config/index.js";
import { define } from "./args.js";
import { ipAddrs } from "./network.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

const OS_NAMES: Record<string, string> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  rhel: "RedHat",
  centos: "CentOS",
  fedora: "Fedora",
  rocky: "Rocky",
  almalinux: "AlmaLinux",
  alpine: "Alpine",
  arch: "Arch",
  opensuse: "SUSE",
  sles: "SUSE",
  amzn: "Amazon",
};
const OS_FAMILIES: Record<string, string> = {
  Debian: "Debian",
  Ubuntu: "Debian",
  RedHat: "RedHat",
  CentOS: "RedHat",
  Fedora: "RedHat",
  Rocky: "RedHat",
  AlmaLinux: "RedHat",
  Amazon: "RedHat",
  Alpine: "Alpine",
  Arch: "Arch",
  SUSE: "Suse",
};

let detected: Promise<Record<string, unknown>> | undefined;

/** The `grains` module. */
export const grainsModule: ModuleFunctions = {
  items: define("grains.items", { params: [] }, (_a, ctx) => grainsOf(ctx)),
  ls: define("grains.ls", { params: [] }, async (_a, ctx) => Object.keys(await grainsOf(ctx)).sort()),
  get: define(
    "grains.get",
    { params: ["key", "default", "delimiter"], defaults: { default: "", delimiter: ":" } },
    async (a, ctx) => lookup(await grainsOf(ctx), a.str("key"), a.str("delimiter"), a.raw("default")),
  ),
  item: define("grains.item", { params: [], varargs: true }, async (a, ctx) => {
    const g = await grainsOf(ctx);
    return Object.fromEntries(a.extraArgs.map((k) => [String(k), lookup(g, String(k), ":", "")]));
  }),
};

/** Detected grains (cached per process) with the static grains of the config over them. */
export async function grainsOf(ctx: Pick<ModuleContext, "config">): Promise<Record<string, unknown>> {
  detected ??= detectGrains();
  return { ...(await detected), id: ctx.config.id, ...ctx.config.grains };
}

/** Nested lookup `a:b:c` through maps (and list indexes), or `def`. */
export function lookup(root: unknown, key: string, delimiter: string, def: unknown): unknown {
  let node = root;
  for (const part of key.split(delimiter)) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (node !== null && typeof node === "object" && Object.hasOwn(node, part))
      node = (node as Record<string, unknown>)[part];
    else return def;
    if (node === undefined) return def;
  }
  return node;
}

/** Facts about this host, in Salt's grain names. */
export async function detectGrains(): Promise<Record<string, unknown>> {
  const rel = await osRelease();
  const id = (rel["ID"] ?? "").toLowerCase();
  const os = OS_NAMES[id] ?? OS_NAMES[id.split("-")[0] ?? ""] ?? rel["NAME"] ?? type();
  const host = hostname();
  return {
    os,
    os_family: OS_FAMILIES[os] ?? os,
    osrelease: rel["VERSION_ID"] ?? "",
    oscodename: rel["VERSION_CODENAME"] ?? "",
    kernel: type(),
    kernelrelease: release(),
    cpuarch: arch(),
    nodename: host,
    host: host.split(".")[0] ?? host,
    hostname: host,
    fqdn: await detectFqdn(),
    ipv4: ipAddrs("IPv4", { includeLoopback: true }),
    ipv6: ipAddrs("IPv6", { includeLoopback: true }),
    num_cpus: cpus().length,
    mem_total: Math.round(totalmem() / 1024 / 1024),
  };
}

async function osRelease(): Promise<Record<string, string>> {
  const text = await readFile("/etc/os-release", "utf8").catch(() =>
    readFile("/usr/lib/os-release", "utf8").catch(() => ""),
  );
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, "");
  }
  return out;
}
