/** The file server (DESIGN.md 11.4): `file_roots` kept in a NATS store, and the agents' client of it. */
export { startFileSync, syncOnce } from "./sync.js";
export type { FileSync, FileSyncOptions, SyncStats } from "./sync.js";
export { storeFileClient } from "./client.js";
export type { StoreFileClientOptions } from "./client.js";
export { ENVS_KEY, envIndexKey, FILESERVER_BUCKET, FILESERVER_INDEX_BUCKET } from "./types.js";
export type {
  EnvIndex,
  IndexRecord,
  ObjectPort,
  RecordPort,
  WritableObjectPort,
  WritableRecordPort,
} from "./types.js";
