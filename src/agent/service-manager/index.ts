/** Service managers: systemd, or per-service commands; `auto` picks systemd where PID 1 is systemd. */
import { existsSync, readFileSync } from "node:fs";
import type { AgentConfig } from "../../config/index.js";
import type { ServiceManager } from "../../core/ports.js";
import { createCommandServiceManager, type CommandServiceManagerOptions } from "./command.js";
import { createSystemdServiceManager, type SystemdServiceManagerOptions } from "./systemd.js";

export { createCommandServiceManager, createSystemdServiceManager };
export type { CommandServiceManagerOptions, SystemdServiceManagerOptions };
export { unitName } from "./systemd.js";

/** True when /run/systemd/system exists and PID 1 is systemd. */
export function hostRunsSystemd(): boolean {
  if (!existsSync("/run/systemd/system")) return false;
  try {
    return readFileSync("/proc/1/comm", "utf8").trim() === "systemd";
  } catch {
    return false;
  }
}

/** The service manager the config asks for (`auto`: systemd if the host runs it, else `command`). */
export function createServiceManager(
  config: Pick<AgentConfig, "service_manager" | "services">,
  opts: {
    systemd?: SystemdServiceManagerOptions;
    command?: Omit<CommandServiceManagerOptions, "services">;
  } = {},
): ServiceManager {
  const useSystemd =
    config.service_manager === "systemd" || (config.service_manager === "auto" && hostRunsSystemd());
  return useSystemd
    ? createSystemdServiceManager(opts.systemd)
    : createCommandServiceManager({ ...opts.command, services: config.services });
}
