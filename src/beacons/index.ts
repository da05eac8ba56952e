/**
 * Beacons: plugins that watch the host and a scheduler that fires their events with Salt's tags
 * (`salt/beacon/<id>/<name>/<suffix>`) and data. See DESIGN.md section 5.
 */
export { compileBeacons, compileBeacon, mergeOptions, objectSource, COMMON_OPTIONS, DEFAULT_INTERVAL_S, MIN_INTERVAL_S, MAX_POLL_TIMEOUT_MS } from "./spec.js";
export type { BeaconSpec, CompileBeaconsOptions, CompiledBeacons } from "./spec.js";
export { Fields, OptionProblem, parsePercent, suggest } from "./fields.js";
export { definePlugin } from "./plugin.js";
export type { BeaconEvent, BeaconDeps, BeaconInstance, BeaconPlugin, BeaconRegistry } from "./plugin.js";
export { createBeaconScheduler, BeaconNotFoundError } from "./scheduler.js";
export type { BeaconScheduler, BeaconSchedulerOptions, BeaconStatus } from "./scheduler.js";
export { beaconTag } from "./slot.js";
export { createBeaconsModule, beaconsDocument } from "./module.js";
export type { ModuleFunction, ModuleResult, BeaconsModuleOptions } from "./module.js";
export { builtinBeacons, beaconRegistry } from "./types/index.js";
