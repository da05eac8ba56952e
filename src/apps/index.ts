export { createLogger } from "./logger.js";
export type { LoggerOptions } from "./logger.js";
export { openClient, resolveServers, DEFAULT_NATS_URL } from "./client.js";
export type { Client } from "./client.js";
export { startService, streamSettings } from "./service.js";
export type { ServiceOptions, ServiceHandle } from "./service.js";
export { openMinionDirectory } from "./minion-directory.js";
export type { MinionDirectory, MinionValue } from "./minion-directory.js";
