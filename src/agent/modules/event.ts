/** `event.send` (and `event.fire`): publish an event through the EventSink, with the job as its cause. */
import { ModuleArgumentError } from "../../core/errors.js";
import { define, type Bound } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

/** The `event` module. */
export const eventModule: ModuleFunctions = {
  send: define("event.send", { params: ["tag", "data"], defaults: { data: null }, varkw: true }, (a, ctx) =>
    send(a, ctx, true),
  ),
  fire: define("event.fire", { params: ["data", "tag"] }, (a, ctx) => send(a, ctx, false)),
};

/** event.send nests the user data under `data` plus `id` (Salt); event.fire sends it as it is. */
async function send(a: Bound, ctx: ModuleContext, nest: boolean): Promise<boolean> {
  const raw = a.raw("data");
  const data = raw === null || raw === undefined ? {} : raw;
  if (typeof data !== "object" || Array.isArray(data))
    throw new ModuleArgumentError(a.fun, "argument 'data' must be a map");
  const payload = nest
    ? { data: { ...(data as Record<string, unknown>), ...a.extraKwargs }, id: ctx.config.id }
    : (data as Record<string, unknown>);
  const { causationId, depth } = ctx.job;
  await ctx.emit.emit(a.str("tag"), payload, {
    ...(causationId !== undefined ? { causationId } : {}),
    depth: (depth ?? 0) + 1,
  });
  return true;
}
