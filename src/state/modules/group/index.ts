/**
 * The `group` state module (salt/states/group.py): present (gid, system, members, addusers,
 * delusers) and absent, through the agent's `group.*` execution functions.
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

type Info = { name?: string; gid?: number; members?: string[] };
const list = (v: unknown): string[] | undefined =>
  v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(String) : String(v).split(",");

function wantedMembers(a: StateArgs, have: string[]): string[] | undefined {
  const members = list(a.members);
  const add = list(a.addusers);
  const del = list(a.delusers);
  if (members) return [...new Set(members)].sort();
  if (!add && !del) return undefined;
  return [...new Set([...have, ...(add ?? [])])].filter((m) => !(del ?? []).includes(m)).sort();
}

async function present(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const have = (await ctx.exec("group.info", [name])) as Info;
  if (!have.name) {
    if (ctx.test) return { result: null, changes: {}, comment: `Group ${name} set to be added` };
    await ctx.exec("group.add", [name], { gid: a.gid ?? null, system: a.system === true });
    const members = wantedMembers(a, []);
    if (members?.length) await ctx.exec("group.members", [name], { members_list: members });
    return {
      result: true,
      changes: (await ctx.exec("group.info", [name])) as Record<string, unknown>,
      comment: `New group ${name} created`,
    };
  }
  const changes: Record<string, unknown> = {};
  if (a.gid !== undefined && a.gid !== null && Number(a.gid) !== have.gid) changes.gid = Number(a.gid);
  const members = wantedMembers(a, have.members ?? []);
  if (members && members.join(",") !== [...(have.members ?? [])].sort().join(",")) changes.members = members;
  if (!Object.keys(changes).length)
    return { result: true, changes: {}, comment: `Group ${name} is present and up to date` };
  if (ctx.test)
    return {
      result: null,
      changes: {},
      comment: `The following group attributes are set to be changed:\n${Object.entries(changes)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`)
        .join("\n")}`,
    };
  if (changes.gid !== undefined) await ctx.exec("group.chgid", [name], { gid: changes.gid });
  if (changes.members !== undefined)
    await ctx.exec("group.members", [name], { members_list: changes.members });
  return { result: true, changes, comment: `Updated group ${name}` };
}

async function absent(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const have = (await ctx.exec("group.info", [a.name])) as Info;
  if (!have.name) return { result: true, changes: {}, comment: "Group not present" };
  if (ctx.test) return { result: null, changes: {}, comment: `Group ${a.name} is set for removal` };
  await ctx.exec("group.delete", [a.name]);
  return { result: true, changes: { [a.name]: "Deleted" }, comment: `Removed group ${a.name}` };
}

export const groupStates: StateModule = { name: "group", functions: { present, absent } };
