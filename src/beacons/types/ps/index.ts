/**
 * `ps`: processes by name that should be running or stopped (Salt: `processes: {nginx: running}`).
 * Fires one event listing each process in the state asked for: data `{nginx: "Running", mysqld: "Stopped"}`.
 */
import type { Fields } from "../../fields.js";
import { definePlugin } from "../../plugin.js";
import { processNames } from "../host.js";

export interface PsConfig {
  /** Process name -> the state to report. */
  readonly processes: Readonly<Record<string, "running" | "stopped">>;
}

function parse(f: Fields): PsConfig {
  const procs: Fields = f.requiredMap("processes");
  const processes: Record<string, "running" | "stopped"> = {};
  for (const name of procs.keys()) {
    const want = procs.get(name);
    if (want !== "running" && want !== "stopped") return procs.fail(name, 'must be "running" or "stopped"');
    processes[name] = want;
  }
  return { processes };
}

export const psPlugin = definePlugin({
  type: "ps",
  options: ["processes"],
  parse,
  create: (config: PsConfig) => ({
    async poll() {
      const running = await processNames();
      const data: Record<string, string> = {};
      for (const [name, want] of Object.entries(config.processes)) {
        if (want === "running" && running.has(name)) data[name] = "Running";
        if (want === "stopped" && !running.has(name)) data[name] = "Stopped";
      }
      return Object.keys(data).length ? [{ data }] : [];
    },
  }),
});
