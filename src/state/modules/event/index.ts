/** `event.send` (salt/states/event.py): sends an event on the bus, tagged `name`, with `data`. */
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

async function send(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const data =
    a.data !== null && typeof a.data === "object" && !Array.isArray(a.data)
      ? (a.data as Record<string, unknown>)
      : {};
  if (ctx.test) return { result: null, changes: {}, comment: "Event would have been fired" };
  await ctx.emit.emit(a.name, data);
  return { result: true, changes: { tag: a.name, data }, comment: "Event fired" };
}

export const eventStates: StateModule = { name: "event", functions: { send, wait: send }, modWatch: send };
