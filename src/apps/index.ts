export { createLogger } from "./logger.js";
export type { LoggerOptions } from "./logger.js";
export { openClient, resolveServers, DEFAULT_NATS_URL } from "./client.js";
export type { Client } from "./client.js";
