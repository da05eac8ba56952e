/**
 * `pkg.*` (salt/modules/aptpkg.py, dpkg_lowpkg.py, yumpkg.py): the package provider of the `pkg`
 * states. apt/dpkg on Debian, dnf/rpm where dpkg is absent; chosen per call by what is installed.
 * Commands are argv, never a shell string; apt runs non-interactively.
 */
import { access } from "node:fs/promises";
import { ExecutionError } from "../../core/errors.js";
import { runProcess } from "../process.js";
import { define } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

type Versions = Record<string, string>;

async function has(bin: string): Promise<boolean> {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    try {
      await access(`${dir}/${bin}`);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

interface Provider {
  readonly kind: "apt" | "dnf";
  list(ctx: ModuleContext): Promise<Versions>;
  install(names: string[], files: string[], refresh: boolean, ctx: ModuleContext): Promise<void>;
  remove(names: string[], purge: boolean, ctx: ModuleContext): Promise<void>;
  candidate(name: string, ctx: ModuleContext): Promise<string>;
  refresh(ctx: ModuleContext): Promise<void>;
}

async function run(argv: string[], ctx: ModuleContext, what: string): Promise<string> {
  const r = await runProcess(argv, {
    signal: ctx.signal,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } as Record<string, string>,
  });
  if (r.retcode !== 0)
    throw new ExecutionError(
      `${what} failed (${argv.join(" ")}): ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n")}`,
    );
  return r.stdout;
}

const APT: Provider = {
  kind: "apt",
  async list(ctx) {
    const out = await run(
      ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n"],
      ctx,
      "dpkg-query",
    );
    const v: Versions = {};
    for (const line of out.split("\n")) {
      const [name, version, status] = line.split("\t");
      if (name && version && status?.startsWith("ii")) v[name] = version;
    }
    return v;
  },
  async install(names, files, refresh, ctx) {
    if (refresh) await APT.refresh(ctx);
    if (files.length) await run(["dpkg", "-i", ...files], ctx, "dpkg -i");
    if (names.length)
      await run(
        ["apt-get", "-q", "-y", "-o", "DPkg::Options::=--force-confold", "install", ...names],
        ctx,
        "apt-get install",
      );
  },
  async remove(names, purge, ctx) {
    await run(
      ["apt-get", "-q", "-y", purge ? "purge" : "remove", ...names],
      ctx,
      `apt-get ${purge ? "purge" : "remove"}`,
    );
  },
  async candidate(name, ctx) {
    const out = await run(["apt-cache", "policy", name], ctx, "apt-cache policy").catch(() => "");
    return /Candidate:\s*(\S+)/.exec(out)?.[1]?.replace("(none)", "") ?? "";
  },
  async refresh(ctx) {
    await run(["apt-get", "-q", "update"], ctx, "apt-get update");
  },
};

const DNF: Provider = {
  kind: "dnf",
  async list(ctx) {
    const out = await run(["rpm", "-qa", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"], ctx, "rpm -qa");
    return Object.fromEntries(
      out
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t") as [string, string]),
    );
  },
  async install(names, files, refresh, ctx) {
    const args = refresh ? ["--refresh"] : [];
    if (files.length || names.length)
      await run(["dnf", "-y", ...args, "install", ...files, ...names], ctx, "dnf install");
  },
  async remove(names, _purge, ctx) {
    await run(["dnf", "-y", "remove", ...names], ctx, "dnf remove");
  },
  async candidate(name, ctx) {
    const out = await run(
      ["dnf", "-q", "repoquery", "--latest-limit=1", "--qf", "%{version}-%{release}", name],
      ctx,
      "dnf repoquery",
    ).catch(() => "");
    return out.trim().split("\n")[0] ?? "";
  },
  async refresh(ctx) {
    await run(["dnf", "-y", "makecache"], ctx, "dnf makecache");
  },
};

/** The provider of this host: dpkg first (Debian), else rpm/dnf. */
export async function pkgProvider(): Promise<Provider> {
  if (await has("dpkg-query")) return APT;
  if (await has("rpm")) return DNF;
  throw new ExecutionError("no package manager found (pkg.* needs dpkg/apt or rpm/dnf)");
}

/** `pkgs` / `sources` / `name` as Salt takes them: names, and `{name: file}` sources. */
function targets(a: { raw(n: string): unknown }): { names: string[]; sources: [string, string][] } {
  const pkgs = a.raw("pkgs");
  const sources = a.raw("sources");
  const name = a.raw("name");
  const names: string[] = [];
  for (const p of Array.isArray(pkgs) ? pkgs : [])
    names.push(
      typeof p === "object" && p ? Object.entries(p).map(([k, v]) => `${k}=${String(v)}`)[0]! : String(p),
    );
  const src: [string, string][] = [];
  for (const s of Array.isArray(sources) ? sources : [])
    if (s && typeof s === "object")
      src.push(...(Object.entries(s).map(([k, v]) => [k, String(v)]) as [string, string][]));
  if (!names.length && !src.length && typeof name === "string" && name)
    names.push(a.raw("version") ? `${name}=${String(a.raw("version"))}` : name);
  return { names, sources: src };
}

/** Salt's return of install/remove: `{name: {old, new}}` for what changed. */
function diff(before: Versions, after: Versions): Record<string, { old: string; new: string }> {
  const out: Record<string, { old: string; new: string }> = {};
  for (const n of new Set([...Object.keys(before), ...Object.keys(after)]))
    if (before[n] !== after[n]) out[n] = { old: before[n] ?? "", new: after[n] ?? "" };
  return out;
}

const PKG_SIG = {
  params: ["name", "pkgs", "sources", "version", "refresh"],
  defaults: { name: null, pkgs: null, sources: null, version: null, refresh: false },
  varkw: true,
} as const;

export const pkgModule: ModuleFunctions = {
  list_pkgs: define("pkg.list_pkgs", { params: [], varkw: true }, async (_a, ctx) =>
    (await pkgProvider()).list(ctx),
  ),
  version: define("pkg.version", { params: [], varargs: true, varkw: true }, async (a, ctx) => {
    const all = await (await pkgProvider()).list(ctx);
    const names = a.extraArgs.map(String);
    if (names.length === 1) return all[names[0]!] ?? "";
    return Object.fromEntries(names.map((n) => [n, all[n] ?? ""]));
  }),
  latest_version: define("pkg.latest_version", { params: [], varargs: true, varkw: true }, async (a, ctx) => {
    const p = await pkgProvider();
    const all = await p.list(ctx);
    const out: Record<string, string> = {};
    for (const n of a.extraArgs.map(String)) {
      const c = await p.candidate(n, ctx);
      out[n] = c && c !== all[n] ? c : "";
    }
    return a.extraArgs.length === 1 ? Object.values(out)[0] : out;
  }),
  refresh_db: define("pkg.refresh_db", { params: [], varkw: true }, async (_a, ctx) => {
    await (await pkgProvider()).refresh(ctx);
    return true;
  }),
  install: define("pkg.install", PKG_SIG, async (a, ctx) => {
    const p = await pkgProvider();
    const { names, sources } = targets(a);
    const before = await p.list(ctx);
    await p.install(
      names,
      sources.map(([, f]) => f),
      a.raw("refresh") === true,
      ctx,
    );
    return diff(before, await p.list(ctx));
  }),
  remove: define("pkg.remove", PKG_SIG, async (a, ctx) => {
    const p = await pkgProvider();
    const { names } = targets(a);
    const before = await p.list(ctx);
    const present = names.map((n) => n.split("=")[0]!).filter((n) => n in before);
    if (present.length) await p.remove(present, false, ctx);
    return diff(before, await p.list(ctx));
  }),
  purge: define("pkg.purge", PKG_SIG, async (a, ctx) => {
    const p = await pkgProvider();
    const { names } = targets(a);
    const before = await p.list(ctx);
    const known = names.map((n) => n.split("=")[0]!);
    const present = known.filter((n) => n in before);
    if (present.length) await p.remove(present, true, ctx);
    // Removed packages keep their configuration files (dpkg's "rc" state) until purged.
    const rest = known.filter((n) => !(n in before));
    if (rest.length && p.kind === "apt")
      await run(["dpkg", "--purge", ...rest], ctx, "dpkg --purge").catch(() => "");
    return diff(before, await p.list(ctx));
  }),
};
