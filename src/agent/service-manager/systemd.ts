/** The `systemd` service manager, through `systemctl` (argv, never a shell). */
import { ServiceError, errorMessage } from "../../core/errors.js";
import type { ServiceManager } from "../../core/ports.js";
import { runProcess, type RunResult } from "../process.js";

/** Options of the systemd service manager. */
export interface SystemdServiceManagerOptions {
  /** The systemctl binary. Default `systemctl`. */
  readonly systemctl?: string;
  /** Limit of one systemctl call. Default 120000 ms. */
  readonly timeoutMs?: number;
}

const UNIT_TYPES = [
  "service",
  "socket",
  "timer",
  "target",
  "mount",
  "automount",
  "path",
  "scope",
  "slice",
  "swap",
  "device",
];

/** `nginx` -> `nginx.service`; names with a unit type suffix stay as they are. */
export function unitName(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && UNIT_TYPES.includes(name.slice(dot + 1)) ? name : `${name}.service`;
}

/** Creates the systemd service manager. */
export function createSystemdServiceManager(opts: SystemdServiceManagerOptions = {}): ServiceManager {
  const systemctl = opts.systemctl ?? "systemctl";
  const ctl = async (name: string, ...args: string[]): Promise<RunResult> => {
    if (name.startsWith("-") || name.includes("\0")) throw new ServiceError(name, "is not a valid unit name");
    try {
      return await runProcess([systemctl, ...args, unitName(name)], { timeoutMs: opts.timeoutMs ?? 120_000 });
    } catch (err) {
      throw new ServiceError(name, `systemctl ${args[0]} failed: ${errorMessage(err)}`);
    }
  };
  const ok = (op: string) => async (name: string) => (await ctl(name, op)).retcode === 0;
  return {
    kind: "systemd",
    status: async (name) => (await ctl(name, "is-active", "--quiet")).retcode === 0,
    available: async (name) => {
      const files = await ctl(name, "list-unit-files", "--no-legend", "--no-pager", "--full");
      if (files.retcode === 0 && files.stdout.trim() !== "") return true;
      const units = await ctl(name, "list-units", "--all", "--no-legend", "--no-pager", "--full");
      return units.retcode === 0 && units.stdout.trim() !== "";
    },
    start: ok("start"),
    stop: ok("stop"),
    restart: ok("restart"),
    reload: ok("reload"),
  };
}
