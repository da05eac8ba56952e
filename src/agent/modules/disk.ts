/** `disk.usage`: Salt's shape, per mount point, from `df -kP`. */
import { ExecutionError } from "../../core/errors.js";
import { runProcess } from "../process.js";
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** One mount point as Salt's disk.usage reports it (numbers as strings, as Salt does). */
export interface DiskUsage {
  readonly filesystem: string;
  readonly "1K-blocks": string;
  readonly used: string;
  readonly available: string;
  readonly capacity: string;
}

/** The `disk` module. */
export const diskModule: ModuleFunctions = {
  usage: define("disk.usage", { params: [] }, async (_a, ctx) => {
    const r = await runProcess(["df", "-kP"], { signal: ctx.signal, env: { LC_ALL: "C" } });
    if (r.retcode !== 0 && r.stdout.trim() === "")
      throw new ExecutionError(`disk.usage: df failed: ${r.stderr.trim()}`);
    return parseDf(r.stdout);
  }),
};

/** Parses `df -kP` output into `{mount: DiskUsage}`. */
export function parseDf(text: string): Record<string, DiskUsage> {
  const out: Record<string, DiskUsage> = {};
  for (const line of text.split("\n").slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c.length < 6) continue;
    out[c.slice(5).join(" ")] = {
      filesystem: c[0]!,
      "1K-blocks": c[1]!,
      used: c[2]!,
      available: c[3]!,
      capacity: c[4]!,
    };
  }
  return out;
}
