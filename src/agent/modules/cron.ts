/**
 * `cron.*` (salt/modules/cron.py): a user's crontab through `crontab -l -u` / `crontab -u USER -`,
 * with Salt's managed section (`# Lines below here are managed by Salt, do not edit`) and its
 * `SALT_CRON_IDENTIFIER` comments, so crontabs Salt wrote are read and kept as they are.
 */
import { ExecutionError } from "../../core/errors.js";
import { runProcess } from "../process.js";
import { define } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

const TAG = "# Lines below here are managed by Salt, do not edit";
const ID = "SALT_CRON_IDENTIFIER";

/** One managed job, as Salt's list_tab returns it. */
export interface CronJob {
  minute: string;
  hour: string;
  daymonth: string;
  month: string;
  dayweek: string;
  cmd: string;
  comment: string | null;
  commented: boolean;
  identifier: string | false;
  special?: string;
}

interface Tab {
  pre: string[];
  crons: CronJob[];
  special: CronJob[];
}

async function read(user: string, ctx: ModuleContext): Promise<Tab> {
  const r = await runProcess(["crontab", "-l", "-u", user], { signal: ctx.signal });
  if (r.retcode !== 0 && !/no crontab/i.test(r.stderr))
    throw new ExecutionError(`crontab -l -u ${user} failed: ${r.stderr.trim()}`);
  const lines = r.retcode === 0 ? r.stdout.split("\n") : [];
  const tab: Tab = { pre: [], crons: [], special: [] };
  let managed = false;
  let comment: string | null = null;
  let identifier: string | false = false;
  for (const raw of lines) {
    if (raw === TAG) {
      managed = true;
      continue;
    }
    if (!managed) {
      if (raw !== "" || tab.pre.length) tab.pre.push(raw);
      continue;
    }
    if (!raw.trim()) continue;
    const commentLine = /^#\s*(.*?)\s*(?:SALT_CRON_IDENTIFIER:(\S+))?\s*$/.exec(raw);
    if (raw.startsWith("#") && !/^#DISABLED#/.test(raw) && commentLine) {
      comment = commentLine[1] || null;
      identifier = commentLine[2] ?? false;
      continue;
    }
    const commented = raw.startsWith("#DISABLED#");
    const line = commented ? raw.slice("#DISABLED#".length) : raw;
    const sp = /^(@\w+)\s+(.*)$/.exec(line);
    if (sp)
      tab.special.push({
        minute: "",
        hour: "",
        daymonth: "",
        month: "",
        dayweek: "",
        special: sp[1]!,
        cmd: sp[2]!,
        comment,
        commented,
        identifier,
      });
    else {
      const f = line.split(/\s+/);
      if (f.length >= 6)
        tab.crons.push({
          minute: f[0]!,
          hour: f[1]!,
          daymonth: f[2]!,
          month: f[3]!,
          dayweek: f[4]!,
          cmd: f.slice(5).join(" "),
          comment,
          commented,
          identifier,
        });
    }
    comment = null;
    identifier = false;
  }
  while (tab.pre.length && tab.pre[tab.pre.length - 1] === "") tab.pre.pop();
  return tab;
}

function render(tab: Tab): string {
  const out = [...tab.pre];
  out.push(TAG);
  for (const j of [...tab.crons, ...tab.special]) {
    if (j.comment || j.identifier)
      out.push(
        `# ${j.comment ?? ""}${j.identifier ? `${j.comment ? " " : ""}${ID}:${j.identifier}` : ""}`.replace(
          /^# $/,
          "#",
        ),
      );
    const when = j.special ?? `${j.minute} ${j.hour} ${j.daymonth} ${j.month} ${j.dayweek}`;
    out.push(`${j.commented ? "#DISABLED#" : ""}${when} ${j.cmd}`);
  }
  return `${out.join("\n")}\n`;
}

async function write(user: string, tab: Tab, ctx: ModuleContext): Promise<void> {
  const r = await runProcess(["crontab", "-u", user, "-"], { stdin: render(tab), signal: ctx.signal });
  if (r.retcode !== 0) throw new ExecutionError(`crontab -u ${user} - failed: ${r.stderr.trim()}`);
}

/** The job of `tab` that `cmd`/`identifier` names (Salt: the identifier when given, else the command). */
function find(list: CronJob[], cmd: string, identifier: string | false): number {
  return list.findIndex(
    (j) =>
      (identifier ? j.identifier === identifier : j.cmd === cmd && !j.identifier) ||
      (!identifier && j.identifier === cmd),
  );
}

const JOB = {
  params: [
    "user",
    "minute",
    "hour",
    "daymonth",
    "month",
    "dayweek",
    "cmd",
    "commented",
    "comment",
    "identifier",
    "special",
  ],
  defaults: {
    minute: "*",
    hour: "*",
    daymonth: "*",
    month: "*",
    dayweek: "*",
    cmd: "",
    commented: false,
    comment: null,
    identifier: false,
    special: null,
  },
} as const;

export const cronModule: ModuleFunctions = {
  list_tab: define("cron.list_tab", { params: ["user"] }, async (a, ctx) => {
    const t = await read(a.str("user"), ctx);
    return { pre: t.pre, crons: t.crons, special: t.special, env: [] };
  }),
  /** Returns Salt's answers: "new", "updated", "present". */
  set_job: define("cron.set_job", JOB, async (a, ctx) => {
    const user = a.str("user");
    const tab = await read(user, ctx);
    const special = a.raw("special");
    const job: CronJob = {
      minute: String(a.raw("minute")),
      hour: String(a.raw("hour")),
      daymonth: String(a.raw("daymonth")),
      month: String(a.raw("month")),
      dayweek: String(a.raw("dayweek")),
      cmd: a.str("cmd"),
      comment: (a.raw("comment") as string | null) ?? null,
      commented: a.raw("commented") === true,
      identifier: (a.raw("identifier") as string | false) || false,
      ...(typeof special === "string"
        ? { special, minute: "", hour: "", daymonth: "", month: "", dayweek: "" }
        : {}),
    };
    const list = job.special ? tab.special : tab.crons;
    const other = job.special ? tab.crons : tab.special;
    const o = find(other, job.cmd, job.identifier);
    if (o >= 0) other.splice(o, 1);
    const i = find(list, job.cmd, job.identifier);
    if (i >= 0 && JSON.stringify(list[i]) === JSON.stringify(job) && o < 0) return "present";
    if (i >= 0) list[i] = job;
    else list.push(job);
    await write(user, tab, ctx);
    return i >= 0 || o >= 0 ? "updated" : "new";
  }),
  rm_job: define(
    "cron.rm_job",
    { params: ["user", "cmd", "identifier"], defaults: { identifier: false } },
    async (a, ctx) => {
      const user = a.str("user");
      const tab = await read(user, ctx);
      const identifier = (a.raw("identifier") as string | false) || false;
      let removed = false;
      for (const list of [tab.crons, tab.special]) {
        const i = find(list, a.str("cmd"), identifier);
        if (i >= 0) {
          list.splice(i, 1);
          removed = true;
        }
      }
      if (!removed) return "absent";
      await write(user, tab, ctx);
      return "removed";
    },
  ),
};
