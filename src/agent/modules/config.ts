/**
 * `config.get` (salt/modules/config.py: the agent's options, then grains, then pillar, `:` for
 * nested keys) and `pillar.get/item/items/raw` (salt/modules/pillar.py). The agent's pillar is
 * empty until pillar is built (the pillar issue); `pillar=` given to a state run reaches states
 * through the state system, not these functions.
 */
import { define } from "./args.js";
import { grainsOf, lookup } from "./grains.js";
import type { ModuleFunctions } from "./types.js";

const PILLAR: Readonly<Record<string, unknown>> = {};
const MISSING = Symbol("missing");

export const configModule: ModuleFunctions = {
  get: define(
    "config.get",
    { params: ["key", "default", "delimiter"], defaults: { default: "", delimiter: ":" } },
    async (a, ctx) => {
      const key = a.str("key");
      const delim = a.str("delimiter");
      for (const src of [ctx.config as unknown, await grainsOf(ctx), PILLAR]) {
        const v = lookup(src, key, delim, MISSING);
        if (v !== MISSING) return v;
      }
      return a.raw("default");
    },
  ),
};

export const pillarModule: ModuleFunctions = {
  get: define(
    "pillar.get",
    { params: ["key", "default", "delimiter"], defaults: { default: "", delimiter: ":" } },
    (a) => lookup(PILLAR, a.str("key"), a.str("delimiter"), a.raw("default")),
  ),
  item: define("pillar.item", { params: [], varargs: true }, (a) =>
    Object.fromEntries(a.extraArgs.map((k) => [String(k), lookup(PILLAR, String(k), ":", "")])),
  ),
  items: define("pillar.items", { params: [], varargs: true, varkw: true }, () => ({ ...PILLAR })),
  raw: define("pillar.raw", { params: [], varargs: true, varkw: true }, () => ({ ...PILLAR })),
};
