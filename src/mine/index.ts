/** The mine (DESIGN.md section 6): agents publish `mine_functions` results to KV; readers target and read them. */
export { openMineStore, openMinionsStore, mineKey, minionKey, mineFilter, parseMineKey, isAccepted } from "./store.js";
export type { MineEntry, MinionInfo, MineStore, MinionsStore, StoreOptions } from "./store.js";
export { parseMineFunction, parseMineFunctions } from "./functions.js";
export type { MineCall } from "./functions.js";
export { createMinePublisher } from "./publisher.js";
export type { MinePublisher, MinePublisherOptions, MineRunner, MineUpdateSummary } from "./publisher.js";
export { createMineReader, purgeAgent } from "./reader.js";
export type { MineReader, MineReaderOptions, MineChange } from "./reader.js";
export type { MineGetOptions, MineResult, MineOmission, StaleValue } from "./select.js";
export type { MineGetAcl, OmitReason } from "./acl.js";
export { createMineCache, templateMine } from "./cache.js";
export type { MineCache, TemplateMine } from "./cache.js";
export { createMineModule } from "./module.js";
export type { MineModule, MineModuleFunction } from "./module.js";
export { fetchAll } from "./mirror.js";
