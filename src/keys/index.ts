/** The key service (issue 5): key states in KV, the handshake, Salt's key wheel, the event verifier, the service key. */
export { openKeyStore, keyKey, parseKeyKey, readSlots, listRecords } from "./store.js";
export type { KeyRecord, KeyStore, KeyStoreOptions } from "./store.js";
export { loadServiceKey, loadOrCreateServiceKey, DEFAULT_SERVICE_KEY_FILE } from "./service-key.js";
export type { ServiceKey } from "./service-key.js";
export { createKeyWheel, KEY_FUNCTIONS, SALT_STATUS } from "./wheel.js";
export type { GeneratedKey, KeyWheel, KeyWheelFunction, KeyWheelOptions, KeyCallResult, KeyListing, EmitFn } from "./wheel.js";
export { createAuthHandler } from "./auth-handler.js";
export type { AuthHandler, AuthHandlerOptions } from "./auth-handler.js";
export { startKeyService } from "./service.js";
export type { KeyService, KeyServiceOptions } from "./service.js";
export { watchAcceptedKeys } from "./cache.js";
export type { AcceptedKeyCache } from "./cache.js";
export { startEventVerifier } from "./verifier.js";
export { openReplayStore, REPLAY_BUCKET } from "./replay-store.js";
export type { ReplayStore } from "./replay-store.js";
export type { ServiceVerifier } from "./verifier.js";
export { callKeyCommand } from "./client.js";
export { HandshakeGate, DEFAULT_HANDSHAKE_LIMITS, idPrefix } from "./handshake-limit.js";
export type { HandshakeLimits, FloodReport } from "./handshake-limit.js";
export {
  agentPermissions,
  agentInboxPrefix,
  natsAuthConfig,
  loadOrCreateBootstrapPassword,
  startNatsAuthSync,
  configWriter,
  writeAtomically,
  BOOTSTRAP_USER,
  BOOTSTRAP_INBOX_PREFIX,
} from "./nats-auth.js";
export type { NatsPermissions, NatsAuthInput, NatsAuthSync, NatsAuthSyncOptions } from "./nats-auth.js";
