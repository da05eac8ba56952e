/** The netapi (issue 8): webhooks (`salt/netapi/hook/...`), the SSE event stream, and the status responder. */
export { createHookHandler, hookPath, hookData, HOOK_TAG_PREFIX, HOOK_URL_PREFIX } from "./hooks.js";
export type { HookDeps, RequestHandler } from "./hooks.js";
export { createEventStreamHandler, busWatcher, sseMessage } from "./sse.js";
export type { EventStreamDeps, EventWatcher } from "./sse.js";
export { safeEqual, bearerToken, verifySignature, signBody } from "./auth.js";
export { RateLimiter } from "./rate-limit.js";
export type { RateDecision } from "./rate-limit.js";
export { sendJson, sendError, clientAddress } from "./http-util.js";
export { serveStatus, collectStatus, STATUS_SUBJECT } from "./status.js";
export type { ReplicaStatus, StatusResponder } from "./status.js";
