/**
 * `swapusage`: fires while swap in use reaches `percent` (Salt: `- percent: 13%`).
 * Tag `salt/beacon/<id>/swapusage/`, data `{swapusage}` (percent, a number).
 */
import { parsePercent, type Fields } from "../../fields.js";
import { definePlugin } from "../../plugin.js";
import { swapPercent } from "../host.js";

export interface SwapusageConfig {
  /** Threshold in percent. Required. */
  readonly percent: number;
}

export const swapusagePlugin = definePlugin({
  type: "swapusage",
  options: ["percent"],
  parse: (f: Fields): SwapusageConfig => {
    if (!f.has("percent")) f.fail(undefined, 'needs "percent", like percent: 13%');
    return { percent: parsePercent(f, "percent") };
  },
  create: (config: SwapusageConfig) => ({
    async poll() {
      const used = await swapPercent();
      return used >= config.percent ? [{ data: { swapusage: used } }] : [];
    },
  }),
});
