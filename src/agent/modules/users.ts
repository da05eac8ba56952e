/**
 * `user.*` and `group.*` (salt/modules/useradd.py, groupadd.py): accounts through NSS (`getent`)
 * and the shadow tools (useradd, usermod, userdel, groupadd, groupdel, gpasswd), argv only.
 */
import { ExecutionError } from "../../core/errors.js";
import { runProcess } from "../process.js";
import { define } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

async function run(argv: string[], ctx: ModuleContext): Promise<string> {
  const r = await runProcess(argv, { signal: ctx.signal });
  if (r.retcode !== 0) throw new ExecutionError(`${argv[0]} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

async function getent(
  db: "passwd" | "group",
  key: string | undefined,
  ctx: ModuleContext,
): Promise<string[]> {
  const r = await runProcess(["getent", db, ...(key !== undefined ? [key] : [])], { signal: ctx.signal });
  return r.retcode === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

/** Salt's user.info shape, or {} for an unknown user. */
export async function userInfo(name: string, ctx: ModuleContext): Promise<Record<string, unknown>> {
  const [line] = await getent("passwd", name, ctx);
  if (!line) return {};
  const [user, , uid, gid, gecos = "", home, shell] = line.split(":");
  const groups = (await runProcess(["id", "-Gn", user!], { signal: ctx.signal })).stdout
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .sort();
  const [fullname = "", roomnumber = "", workphone = "", homephone = "", other = ""] = gecos.split(",");
  return {
    name: user,
    uid: Number(uid),
    gid: Number(gid),
    home,
    shell,
    passwd: "x",
    fullname,
    roomnumber,
    workphone,
    homephone,
    other,
    groups,
  };
}

/** Salt's group.info shape, or {} for an unknown group. */
export async function groupInfo(name: string, ctx: ModuleContext): Promise<Record<string, unknown>> {
  const [line] = await getent("group", name, ctx);
  if (!line) return {};
  const [group, passwd, gid, members = ""] = line.split(":");
  return { name: group, passwd, gid: Number(gid), members: members.split(",").filter(Boolean) };
}

const USER_ADD = {
  params: ["name", "uid", "gid", "groups", "home", "shell", "fullname", "system", "createhome", "password"],
  defaults: {
    uid: null,
    gid: null,
    groups: null,
    home: null,
    shell: null,
    fullname: null,
    system: false,
    createhome: true,
    password: null,
  },
  varkw: true,
} as const;

export const userModule: ModuleFunctions = {
  info: define("user.info", { params: ["name"] }, (a, ctx) => userInfo(a.str("name"), ctx)),
  list_users: define("user.list_users", { params: [] }, async (_a, ctx) =>
    (await getent("passwd", undefined, ctx)).map((l) => l.split(":")[0]!).sort(),
  ),
  add: define("user.add", USER_ADD, async (a, ctx) => {
    const argv = ["useradd"];
    const opt = (flag: string, v: unknown) =>
      v !== null && v !== undefined && v !== "" && argv.push(flag, String(v));
    opt("-u", a.raw("uid"));
    opt("-g", a.raw("gid"));
    const groups = a.raw("groups");
    opt("-G", Array.isArray(groups) ? groups.join(",") : groups);
    opt("-d", a.raw("home"));
    opt("-s", a.raw("shell"));
    opt("-c", a.raw("fullname"));
    opt("-p", a.raw("password"));
    if (a.raw("system") === true) argv.push("-r");
    argv.push(a.raw("createhome") === false ? "-M" : "-m", a.str("name"));
    await run(argv, ctx);
    return true;
  }),
  delete: define(
    "user.delete",
    { params: ["name", "remove", "force"], defaults: { remove: false, force: false } },
    async (a, ctx) => {
      await run(
        [
          "userdel",
          ...(a.raw("remove") === true ? ["-r"] : []),
          ...(a.raw("force") === true ? ["-f"] : []),
          a.str("name"),
        ],
        ctx,
      );
      return true;
    },
  ),
  chshell: define(
    "user.chshell",
    { params: ["name", "shell"] },
    async (a, ctx) => (await run(["usermod", "-s", a.str("shell"), a.str("name")], ctx), true),
  ),
  chhome: define(
    "user.chhome",
    { params: ["name", "home"] },
    async (a, ctx) => (await run(["usermod", "-d", a.str("home"), a.str("name")], ctx), true),
  ),
  chuid: define(
    "user.chuid",
    { params: ["name", "uid"] },
    async (a, ctx) => (await run(["usermod", "-u", String(a.raw("uid")), a.str("name")], ctx), true),
  ),
  chgid: define(
    "user.chgid",
    { params: ["name", "gid"] },
    async (a, ctx) => (await run(["usermod", "-g", String(a.raw("gid")), a.str("name")], ctx), true),
  ),
  chfullname: define(
    "user.chfullname",
    { params: ["name", "fullname"] },
    async (a, ctx) => (await run(["usermod", "-c", a.str("fullname"), a.str("name")], ctx), true),
  ),
  chgroups: define(
    "user.chgroups",
    { params: ["name", "groups", "append"], defaults: { append: false } },
    async (a, ctx) => {
      const groups = a.raw("groups");
      await run(
        [
          "usermod",
          ...(a.raw("append") === true ? ["-a"] : []),
          "-G",
          Array.isArray(groups) ? groups.join(",") : String(groups ?? ""),
          a.str("name"),
        ],
        ctx,
      );
      return true;
    },
  ),
  list_groups: define(
    "user.list_groups",
    { params: ["name"] },
    async (a, ctx) => ((await userInfo(a.str("name"), ctx)).groups as string[] | undefined) ?? [],
  ),
};

export const groupModule: ModuleFunctions = {
  info: define("group.info", { params: ["name"] }, (a, ctx) => groupInfo(a.str("name"), ctx)),
  getent: define("group.getent", { params: [] }, async (_a, ctx) =>
    Promise.all((await getent("group", undefined, ctx)).map((l) => groupInfo(l.split(":")[0]!, ctx))),
  ),
  add: define(
    "group.add",
    { params: ["name", "gid", "system"], defaults: { gid: null, system: false } },
    async (a, ctx) => {
      const gid = a.raw("gid");
      await run(
        [
          "groupadd",
          ...(gid !== null ? ["-g", String(gid)] : []),
          ...(a.raw("system") === true ? ["-r"] : []),
          a.str("name"),
        ],
        ctx,
      );
      return true;
    },
  ),
  delete: define(
    "group.delete",
    { params: ["name"] },
    async (a, ctx) => (await run(["groupdel", a.str("name")], ctx), true),
  ),
  chgid: define(
    "group.chgid",
    { params: ["name", "gid"] },
    async (a, ctx) => (await run(["groupmod", "-g", String(a.raw("gid")), a.str("name")], ctx), true),
  ),
  adduser: define(
    "group.adduser",
    { params: ["name", "username"] },
    async (a, ctx) => (await run(["gpasswd", "-a", a.str("username"), a.str("name")], ctx), true),
  ),
  deluser: define(
    "group.deluser",
    { params: ["name", "username"] },
    async (a, ctx) => (await run(["gpasswd", "-d", a.str("username"), a.str("name")], ctx), true),
  ),
  members: define("group.members", { params: ["name", "members_list"] }, async (a, ctx) => {
    const m = a.raw("members_list");
    await run(["gpasswd", "-M", Array.isArray(m) ? m.join(",") : String(m ?? ""), a.str("name")], ctx);
    return true;
  }),
};
