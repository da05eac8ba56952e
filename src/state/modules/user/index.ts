/**
 * The `user` state module (salt/states/user.py): present (uid, gid, groups, optional_groups,
 * remove_groups, home, createhome, shell, fullname, system, password hash) and absent (purge),
 * through the agent's `user.*` and `group.*` execution functions.
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

type Info = {
  uid?: number;
  gid?: number;
  home?: string;
  shell?: string;
  fullname?: string;
  groups?: string[];
  name?: string;
};

const list = (v: unknown): string[] | undefined =>
  v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(String) : String(v).split(",");

async function gidOf(group: unknown, ctx: StateContext): Promise<number | undefined> {
  if (group === undefined || group === null) return undefined;
  if (typeof group === "number" || /^\d+$/.test(String(group))) return Number(group);
  const info = (await ctx.exec("group.info", [String(group)])) as { gid?: number };
  return info.gid;
}

/** The fields of `have` that differ from what is asked, as Salt's `changes` keys. */
async function differences(a: StateArgs, have: Info, ctx: StateContext): Promise<Record<string, unknown>> {
  const d: Record<string, unknown> = {};
  if (a.uid !== undefined && a.uid !== null && Number(a.uid) !== have.uid) d.uid = Number(a.uid);
  const gid = await gidOf(a.gid, ctx);
  if (gid !== undefined && gid !== have.gid) d.gid = gid;
  if (typeof a.home === "string" && a.home !== have.home) d.home = a.home;
  if (typeof a.shell === "string" && a.shell !== have.shell) d.shell = a.shell;
  if (typeof a.fullname === "string" && a.fullname !== have.fullname) d.fullname = a.fullname;
  const want = await wantedGroups(a, ctx);
  if (want) {
    const current = new Set(have.groups ?? []);
    const primary =
      have.gid !== undefined
        ? ((await ctx.exec("group.getent")) as { name: string; gid: number }[]).find(
            (g) => g.gid === have.gid,
          )?.name
        : undefined;
    const target = new Set(a.remove_groups === false ? [...current, ...want] : want);
    if (primary) {
      target.add(primary);
      current.add(primary);
    }
    if ([...target].sort().join(",") !== [...current].sort().join(","))
      d.groups = [...target].filter((g) => g !== primary).sort();
  }
  return d;
}

/** `groups` plus the `optional_groups` that exist. */
async function wantedGroups(a: StateArgs, ctx: StateContext): Promise<string[] | undefined> {
  const groups = list(a.groups);
  const optional = list(a.optional_groups);
  if (!groups && !optional) return undefined;
  const out = [...(groups ?? [])];
  for (const g of optional ?? [])
    if (Object.keys((await ctx.exec("group.info", [g])) as object).length) out.push(g);
  return out;
}

async function present(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const have = (await ctx.exec("user.info", [name])) as Info;
  if (!have.name) {
    if (ctx.test) return { result: null, changes: {}, comment: `User ${name} set to be added` };
    const groups = await wantedGroups(a, ctx);
    await ctx.exec("user.add", [name], {
      uid: a.uid ?? null,
      gid: a.gid ?? null,
      groups: groups ?? null,
      home: a.home ?? null,
      shell: a.shell ?? null,
      fullname: a.fullname ?? null,
      system: a.system === true,
      createhome: a.createhome !== false,
      password: a.password ?? null,
    });
    const info = await ctx.exec("user.info", [name]);
    return { result: true, changes: info as Record<string, unknown>, comment: `New user ${name} created` };
  }
  const d = await differences(a, have, ctx);
  if (!Object.keys(d).length)
    return { result: true, changes: {}, comment: `User ${name} is present and up to date` };
  if (ctx.test)
    return {
      result: null,
      changes: {},
      comment: `The following user attributes are set to be changed:\n${Object.entries(d)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`)
        .join("\n")}`,
    };
  const calls: Record<string, [string, unknown]> = {
    uid: ["user.chuid", "uid"],
    gid: ["user.chgid", "gid"],
    home: ["user.chhome", "home"],
    shell: ["user.chshell", "shell"],
    fullname: ["user.chfullname", "fullname"],
    groups: ["user.chgroups", "groups"],
  };
  for (const [k, v] of Object.entries(d)) {
    const [fun, arg] = calls[k]!;
    await ctx.exec(fun, [name], { [String(arg)]: v });
  }
  const after = await differences(a, (await ctx.exec("user.info", [name])) as Info, ctx);
  if (Object.keys(after).length)
    return {
      result: false,
      changes: d,
      comment: `These values could not be changed: ${JSON.stringify(after)}`,
    };
  return { result: true, changes: d, comment: `Updated user ${name}` };
}

async function absent(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const have = (await ctx.exec("user.info", [name])) as Info;
  if (!have.name) return { result: true, changes: {}, comment: `User ${name} is not present` };
  if (ctx.test) return { result: null, changes: {}, comment: `User ${name} set for removal` };
  await ctx.exec("user.delete", [name], { remove: a.purge === true, force: a.force === true });
  return { result: true, changes: { [name]: "removed" }, comment: `Removed user ${name}` };
}

export const userStates: StateModule = { name: "user", functions: { present, absent } };
