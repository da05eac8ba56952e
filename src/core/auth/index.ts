/** Authenticity (DESIGN.md 2.4, docs/security.md): keys, canonical signed bytes, namespaces, policy, handshake messages, verifier. */
export { decodePublicKey, isPublicKey, verifySignature, signerFromSeed, fingerprint, toBase64Url, fromBase64Url, publicKeyObject } from "./nkey.js";
export type { Signer } from "./nkey.js";
export {
  SignDomain,
  eventPayload,
  eventSigningBytes,
  signEvent,
  jobSigningBytes,
  authProofBytes,
  authReplyBytes,
  nonceBytes,
  wheelRequestBytes,
  mineRequestBytes,
} from "./canonical.js";
export { namespaceViolation, RESERVED_PREFIXES } from "./namespace.js";
export { KEY_STATES, compileIdMatcher, compileKeyPolicy, decideAuth, stateOfAct } from "./policy.js";
export type { KeyState, AuthAct, KeyPolicy, KeyPolicyConfig, KeySlots, KeyWrite, AuthDecision } from "./policy.js";
export {
  AUTH_SUBJECT,
  WHEEL_KEY_SUBJECT,
  KEY_SERVICE_QUEUE,
  MINE_REQUEST_SUBJECT,
  MINE_SERVICE_QUEUE,
  MAX_ID_LENGTH,
  agentInboxPrefix,
  idViolation,
  parseAuthRequest,
  parseWheelRequest,
  parseMineRequest,
} from "./messages.js";
export type { AuthHello, AuthProve, AuthChallenge, AuthOutcome, ProtocolError, WheelRequest, WheelReply, MineRequest, MineRequestOp } from "./messages.js";
export { ReplayGuard } from "./replay.js";
export { createEventVerifier } from "./verifier.js";
export type { AcceptedKeys, EventVerifier, EventVerifierOptions, Verdict, VerifyFailure } from "./verifier.js";
export { signJob, verifyJob } from "./jobs.js";
