/**
 * The `cron` state module (salt/states/cron.py): present and absent, through the agent's
 * `cron.*` (a user's crontab with Salt's managed section and identifiers).
 */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

interface Job {
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

function wantedJob(a: StateArgs): Job {
  const s = (k: string) => (a[k] === undefined || a[k] === null ? "*" : String(a[k]));
  const special = typeof a.special === "string" ? a.special : undefined;
  return {
    minute: special ? "" : s("minute"),
    hour: special ? "" : s("hour"),
    daymonth: special ? "" : s("daymonth"),
    month: special ? "" : s("month"),
    dayweek: special ? "" : s("dayweek"),
    cmd: a.name,
    comment: typeof a.comment === "string" ? a.comment : null,
    commented: a.commented === true,
    identifier: typeof a.identifier === "string" && a.identifier ? a.identifier : false,
    ...(special ? { special } : {}),
  };
}

async function current(user: string, job: Job, ctx: StateContext): Promise<Job | undefined> {
  const tab = (await ctx.exec("cron.list_tab", [user])) as { crons: Job[]; special: Job[] };
  return [...tab.crons, ...tab.special].find((j) =>
    job.identifier ? j.identifier === job.identifier : j.cmd === job.cmd && !j.identifier,
  );
}

async function present(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const user = typeof a.user === "string" ? a.user : "root";
  const job = wantedJob(a);
  const have = await current(user, job, ctx);
  const same =
    have &&
    JSON.stringify({ ...have, special: have.special ?? undefined }) ===
      JSON.stringify({ ...job, special: job.special ?? undefined });
  if (same) return { result: true, changes: {}, comment: `Cron ${a.name} already present` };
  if (ctx.test)
    return {
      result: null,
      changes: {},
      comment: `Cron ${a.name} is set to be ${have ? "updated" : "added"}`,
    };
  const r = await ctx.exec("cron.set_job", [user], { ...job, special: job.special ?? null });
  if (r === "present") return { result: true, changes: {}, comment: `Cron ${a.name} already present` };
  return {
    result: true,
    changes: { [user]: a.name },
    comment: r === "new" ? `Cron ${a.name} added to ${user}'s crontab` : `Cron ${a.name} updated`,
  };
}

async function absent(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const user = typeof a.user === "string" ? a.user : "root";
  const job = wantedJob(a);
  if (!(await current(user, job, ctx)))
    return { result: true, changes: {}, comment: `Cron ${a.name} does not exist` };
  if (ctx.test) return { result: null, changes: {}, comment: `Cron ${a.name} is set to be removed` };
  await ctx.exec("cron.rm_job", [user, a.name], { identifier: job.identifier });
  return {
    result: true,
    changes: { [user]: a.name },
    comment: `Cron ${a.name} removed from ${user}'s crontab`,
  };
}

export const cronStates: StateModule = { name: "cron", functions: { present, absent } };
