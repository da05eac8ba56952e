/** Execution modules: the built-in ones, the registry, and user modules. */
import { cmdModule } from "./cmd.js";
import { cpModule } from "./cp.js";
import { diskModule } from "./disk.js";
import { eventModule } from "./event.js";
import { fileModule } from "./file.js";
import { grainsModule } from "./grains.js";
import { haproxyModule } from "./haproxy.js";
import { httpModule } from "./http.js";
import { networkModule } from "./network.js";
import { pkgModule } from "./pkg.js";
import { cronModule } from "./cron.js";
import { configModule, pillarModule } from "./config.js";
import { groupModule, userModule } from "./users.js";
import { ModuleRegistry } from "./registry.js";
import { serviceModule } from "./service.js";
import { statusModule } from "./status.js";
import { sysModule } from "./sys.js";
import { testModule } from "./test.js";

export { ModuleRegistry } from "./registry.js";
export { loadUserModules } from "./user-modules.js";
export type { UserModulesResult } from "./user-modules.js";
export { bind, define, Bound } from "./args.js";
export type { Signature } from "./args.js";
export type { ModuleContext, ModuleFunction, ModuleFunctions } from "./types.js";
export { detectGrains, grainsOf, lookup as lookupGrain } from "./grains.js";
export { ipAddrs } from "./network.js";
export { parseDf } from "./disk.js";
export type { DiskUsage } from "./disk.js";

/**
 * A registry holding every built-in module (test, cmd, cp, service, file, grains, network, disk, status,
 * event, sys, haproxy, http).
 */
export function createBuiltinRegistry(): ModuleRegistry {
  return new ModuleRegistry()
    .add("test", testModule)
    .add("cmd", cmdModule)
    .add("cp", cpModule)
    .add("service", serviceModule)
    .add("file", fileModule)
    .add("grains", grainsModule)
    .add("network", networkModule)
    .add("disk", diskModule)
    .add("status", statusModule)
    .add("event", eventModule)
    .add("sys", sysModule)
    .add("haproxy", haproxyModule)
    .add("http", httpModule)
    .add("pkg", pkgModule)
    .add("user", userModule)
    .add("group", groupModule)
    .add("config", configModule)
    .add("pillar", pillarModule)
    .add("cron", cronModule);
}
