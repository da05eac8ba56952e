/**
 * The `service` state module (salt/states/service.py): running, dead, enabled, disabled, and
 * mod_watch (a watched change restarts a running service, or reloads it with `reload: True`).
 * Through the agent's service manager; enabling at boot needs systemd (the command manager has
 * no boot-time notion, and says so).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

const run = promisify(execFile);

function truthy(v: unknown): boolean {
  return v === true || v === "True" || v === "true";
}

async function isEnabled(name: string, ctx: StateContext): Promise<boolean | undefined> {
  if (ctx.serviceManager.kind !== "systemd") return undefined;
  try {
    const { stdout } = await run("systemctl", ["is-enabled", name]);
    return stdout.trim() === "enabled";
  } catch {
    return false;
  }
}

/** Brings boot-time enablement to `want`; the comment part and the change, if any. */
async function enablement(
  name: string,
  want: boolean,
  ctx: StateContext,
): Promise<{ comment: string; changed: boolean; failed?: boolean }> {
  const now = await isEnabled(name, ctx);
  const word = want ? "enabled" : "disabled";
  if (now === undefined)
    return {
      comment: `Service ${name} cannot be ${word} at boot by the '${ctx.serviceManager.kind}' service manager`,
      changed: false,
    };
  if (now === want) return { comment: `Service ${name} is already ${word}`, changed: false };
  if (ctx.test) return { comment: `Service ${name} set to be ${word}`, changed: true };
  try {
    await run("systemctl", [want ? "enable" : "disable", name]);
    return { comment: `Service ${name} has been ${word}`, changed: true };
  } catch (err) {
    return {
      comment: `Failed when setting service ${name} to ${word}: ${(err as Error).message}`,
      changed: false,
      failed: true,
    };
  }
}

async function unavailable(name: string, ctx: StateContext): Promise<StateReturn | undefined> {
  if (await ctx.serviceManager.available(name)) return undefined;
  return { result: false, changes: {}, comment: `The named service ${name} is not available` };
}

async function running(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const missing = await unavailable(name, ctx);
  if (missing) return missing;
  const enable = a.enable === undefined ? undefined : truthy(a.enable);
  const en = enable === undefined ? undefined : await enablement(name, enable, ctx);
  const tail = en ? `, ${en.comment.charAt(0).toLowerCase()}${en.comment.slice(1)}` : "";
  const changes: Record<string, unknown> = {};
  if (en?.changed) changes[name] = true;
  if (await ctx.serviceManager.status(name)) {
    return {
      result: en?.failed ? false : ctx.test && en?.changed ? null : true,
      changes,
      comment: `The service ${name} is already running${tail}`,
    };
  }
  if (ctx.test)
    return { result: null, changes: { [name]: true }, comment: `Service ${name} is set to start${tail}` };
  await ctx.serviceManager.start(name);
  if (!(await ctx.serviceManager.status(name)))
    return { result: false, changes, comment: `Service ${name} failed to start${tail}` };
  return { result: !en?.failed, changes: { [name]: true }, comment: `Started service ${name}${tail}` };
}

async function dead(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  if (!(await ctx.serviceManager.available(name)))
    return { result: true, changes: {}, comment: `The named service ${name} is not available` };
  const enable = a.enable === undefined ? undefined : truthy(a.enable);
  const en = enable === undefined ? undefined : await enablement(name, enable, ctx);
  const tail = en ? `, ${en.comment.charAt(0).toLowerCase()}${en.comment.slice(1)}` : "";
  if (!(await ctx.serviceManager.status(name)))
    return {
      result: true,
      changes: en?.changed ? { [name]: true } : {},
      comment: `The service ${name} is already dead${tail}`,
    };
  if (ctx.test)
    return { result: null, changes: { [name]: true }, comment: `Service ${name} is set to be killed${tail}` };
  await ctx.serviceManager.stop(name);
  if (await ctx.serviceManager.status(name))
    return { result: false, changes: {}, comment: `Service ${name} failed to die${tail}` };
  return { result: true, changes: { [name]: true }, comment: `Service ${name} was killed${tail}` };
}

function enabledState(want: boolean) {
  return async (a: StateArgs, ctx: StateContext): Promise<StateReturn> => {
    const missing = await unavailable(a.name, ctx);
    if (missing) return missing;
    const en = await enablement(a.name, want, ctx);
    if (en.failed) return { result: false, changes: {}, comment: en.comment };
    const unsupported = (await isEnabled(a.name, ctx)) === undefined;
    return {
      result: unsupported ? false : ctx.test && en.changed ? null : true,
      changes: en.changed ? { [a.name]: true } : {},
      comment: en.comment,
    };
  };
}

/** mod_watch: restart (or reload, or start when it is not running) a service whose watched state changed. */
async function modWatch(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const sfun = String(a.sfun ?? "running");
  const isRunning = await ctx.serviceManager.status(name);
  let verb: "start" | "restart" | "reload" | "stop";
  if (sfun === "dead") {
    if (!isRunning) return { result: true, changes: {}, comment: `Service is already stopped` };
    verb = "stop";
  } else if (sfun === "running") verb = isRunning ? (truthy(a.reload) ? "reload" : "restart") : "start";
  else return { result: true, changes: {}, comment: `Unable to trigger watch for service.${sfun}` };
  const past = { start: "started", restart: "restarted", reload: "reloaded", stop: "stopped" }[verb];
  if (ctx.test) return { result: null, changes: { [name]: true }, comment: `Service is set to be ${past}` };
  const ok = await ctx.serviceManager[verb](name);
  const up = await ctx.serviceManager.status(name);
  const result = ok !== false && (verb === "stop" ? !up : up);
  return {
    result,
    changes: { [name]: result },
    comment: result ? `Service ${past}` : `Service failed to ${verb}`,
  };
}

export const serviceStates: StateModule = {
  name: "service",
  functions: { running, dead, enabled: enabledState(true), disabled: enabledState(false) },
  modWatch,
};
