/**
 * `memusage`: fires while memory in use reaches `percent` (Salt: `- percent: 63%`).
 * Tag `salt/beacon/<id>/memusage/`, data `{memusage}` (percent, a number).
 */
import { parsePercent, type Fields } from "../../fields.js";
import { definePlugin } from "../../plugin.js";
import { memoryPercent } from "../host.js";

export interface MemusageConfig {
  /** Threshold in percent. Required. */
  readonly percent: number;
}

export const memusagePlugin = definePlugin({
  type: "memusage",
  options: ["percent"],
  parse: (f: Fields): MemusageConfig => {
    if (!f.has("percent")) f.fail(undefined, 'needs "percent", like percent: 90%');
    return { percent: parsePercent(f, "percent") };
  },
  create: (config: MemusageConfig) => ({
    async poll() {
      const used = await memoryPercent();
      return used >= config.percent ? [{ data: { memusage: used } }] : [];
    },
  }),
});
