/**
 * The `pkg` state module (salt/states/pkg.py): installed, latest, removed, purged, through the
 * agent's `pkg.*` execution functions (the provider: apt/dpkg or dnf/rpm). `sources` installs
 * package files (a `.deb` or `.rpm` by path or salt://), which needs no repository.
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";
import { globToRegExp } from "../../fnmatch.js";

type Versions = Record<string, string>;

interface Wanted {
  readonly name: string;
  readonly version?: string;
}

function wanted(a: StateArgs): { pkgs: Wanted[]; sources: [string, string][] } {
  const sources: [string, string][] = [];
  for (const s of Array.isArray(a.sources) ? (a.sources as unknown[]) : []) {
    if (s && typeof s === "object") for (const [k, v] of Object.entries(s)) sources.push([k, String(v)]);
  }
  const pkgs: Wanted[] = [];
  if (sources.length) for (const [name] of sources) pkgs.push({ name });
  else if (Array.isArray(a.pkgs)) {
    for (const p of a.pkgs as unknown[]) {
      if (p && typeof p === "object")
        for (const [k, v] of Object.entries(p)) pkgs.push({ name: k, version: String(v) });
      else pkgs.push({ name: String(p) });
    }
  } else
    pkgs.push({
      name: a.name,
      ...(a.version !== undefined && a.version !== null ? { version: String(a.version) } : {}),
    });
  return { pkgs, sources };
}

/** Installed, at the version asked for (exact, or an fnmatch pattern such as `1.2*`). */
function satisfied(have: string | undefined, want?: string): boolean {
  if (have === undefined) return false;
  if (want === undefined || have === want) return true;
  return want.includes("*") && globToRegExp(want).test(have);
}

/** salt:// sources are fetched to the agent's cache first. */
async function localSources(
  sources: [string, string][],
  ctx: StateContext,
): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for (const [name, src] of sources)
    out.push({
      [name]: src.startsWith("salt://")
        ? await ctx.files.cache(src, ctx.saltenv)
        : src.replace(/^file:\/\//, ""),
    });
  return out;
}

async function installed(a: StateArgs, ctx: StateContext, latest = false): Promise<StateReturn> {
  const { pkgs, sources } = wanted(a);
  const have = (await ctx.exec("pkg.list_pkgs")) as Versions;
  const todo: Wanted[] = [];
  for (const p of pkgs) {
    if (!satisfied(have[p.name], p.version)) todo.push(p);
    else if (latest && (await ctx.exec("pkg.latest_version", [p.name])) !== "") todo.push(p);
  }
  const list = todo.map((p) => p.name).join(", ");
  if (!todo.length) {
    return {
      result: true,
      changes: {},
      comment: latest ? "All packages are up-to-date" : "All specified packages are already installed",
    };
  }
  if (ctx.test)
    return {
      result: null,
      changes: {},
      comment: `The following packages would be installed/updated: ${list}`,
    };
  let changes: Record<string, unknown>;
  try {
    const kw: Record<string, unknown> = { refresh: a.refresh === true };
    if (sources.length)
      kw.sources = await localSources(
        sources.filter(([n]) => todo.some((t) => t.name === n)),
        ctx,
      );
    else kw.pkgs = todo.map((p) => (p.version && !latest ? { [p.name]: p.version } : p.name));
    changes = (await ctx.exec("pkg.install", [], kw)) as Record<string, unknown>;
  } catch (err) {
    return {
      result: false,
      changes: {},
      comment: `The following packages failed to install/update: ${list}\n${(err as Error).message}`,
    };
  }
  const now = (await ctx.exec("pkg.list_pkgs")) as Versions;
  const failed = todo.filter((p) => !satisfied(now[p.name], latest ? undefined : p.version));
  if (failed.length)
    return {
      result: false,
      changes,
      comment: `The following packages failed to install/update: ${failed.map((p) => p.name).join(", ")}`,
    };
  return { result: true, changes, comment: `The following packages were installed/updated: ${list}` };
}

function removal(purge: boolean) {
  return async (a: StateArgs, ctx: StateContext): Promise<StateReturn> => {
    const { pkgs } = wanted(a);
    const have = (await ctx.exec("pkg.list_pkgs")) as Versions;
    const present = pkgs.filter((p) => have[p.name] !== undefined).map((p) => p.name);
    if (!present.length)
      return { result: true, changes: {}, comment: `All specified packages are already absent` };
    if (ctx.test)
      return {
        result: null,
        changes: {},
        comment: `The following packages will be ${purge ? "purged" : "removed"}: ${present.join(", ")}`,
      };
    let changes: Record<string, unknown>;
    try {
      changes = (await ctx.exec(purge ? "pkg.purge" : "pkg.remove", [], { pkgs: present })) as Record<
        string,
        unknown
      >;
    } catch (err) {
      return { result: false, changes: {}, comment: (err as Error).message };
    }
    const now = (await ctx.exec("pkg.list_pkgs")) as Versions;
    const left = present.filter((n) => now[n] !== undefined);
    if (left.length)
      return {
        result: false,
        changes,
        comment: `The following packages failed to be ${purge ? "purged" : "removed"}: ${left.join(", ")}`,
      };
    return { result: true, changes, comment: `All targeted packages were ${purge ? "purged" : "removed"}.` };
  };
}

export const pkgStates: StateModule = {
  name: "pkg",
  functions: {
    installed: (a, ctx) => installed(a, ctx),
    latest: (a, ctx) => installed(a, ctx, true),
    removed: removal(false),
    purged: removal(true),
  },
};
