/**
 * The handshake and key-command protocol (request/reply on core NATS; docs/security.md).
 *
 * `reactor.auth` (queue group `reactor-keys`):
 *   1. agent -> `{op: "hello", id, pub}`; service -> `{ok: true, nonce, service}` (its public key).
 *   2. agent -> `{op: "prove", id, pub, nonce, sig, grains?}` (sig over authProofBytes);
 *      service -> `{ok: true, state, act, service, sig, retry_s}` (sig over authReplyBytes), or
 *      `{ok: false, error}`.
 * `reactor.wheel.key`: `{fun, kwarg, stamp, request_id, pub, sig}` signed by a trusted key ->
 * `{ok: true, return, success, comment?}` or `{ok: false, error}`.
 */
import type { KeyState, AuthAct } from "./policy.js";
import { MAX_AGENT_ID_LENGTH, agentIdViolation } from "../agent-id.js";

/** Subject of the handshake. */
export const AUTH_SUBJECT = "reactor.auth";
/** Subject of the key wheel functions. */
export const WHEEL_KEY_SUBJECT = "reactor.wheel.key";
/** Queue group of the key service replicas. */
export const KEY_SERVICE_QUEUE = "reactor-keys";

/** Step 1 of the handshake. */
export interface AuthHello {
  readonly op: "hello";
  readonly id: string;
  readonly pub: string;
}

/** Step 2: the proof of possession. */
export interface AuthProve {
  readonly op: "prove";
  readonly id: string;
  readonly pub: string;
  readonly nonce: string;
  /** base64url ed25519 signature of authProofBytes(id, pub, nonce). */
  readonly sig: string;
  /** Grains offered for autosign_grains (unauthenticated claims, as in Salt). */
  readonly grains?: Readonly<Record<string, unknown>>;
}

/** Answer to hello. */
export interface AuthChallenge {
  readonly ok: true;
  readonly nonce: string;
  /** The service's public key. */
  readonly service: string;
}

/** Answer to prove. */
export interface AuthOutcome {
  readonly ok: true;
  readonly state: KeyState;
  readonly act: AuthAct;
  readonly service: string;
  /** base64url signature of authReplyBytes(id, pub, nonce, state) by the service key. */
  readonly sig: string;
  /** Seconds the agent should wait before its next attempt (pending, denied). */
  readonly retry_s: number;
}

/** A refused request. */
export interface ProtocolError {
  readonly ok: false;
  readonly error: string;
}

/** A signed key command. */
export interface WheelRequest {
  readonly fun: string;
  readonly kwarg: Readonly<Record<string, unknown>>;
  readonly stamp: string;
  readonly request_id: string;
  readonly pub: string;
  readonly sig: string;
}

/** Answer to a key command. */
export interface WheelReply {
  readonly ok: true;
  readonly return: unknown;
  readonly success: boolean;
  readonly comment?: string;
}

/** Longest agent id accepted in the handshake (the one id rule of src/core/agent-id.ts). */
export const MAX_ID_LENGTH = MAX_AGENT_ID_LENGTH;

/** Why an agent id is unusable, or undefined: the one id rule of src/core/agent-id.ts. */
export function idViolation(id: unknown): string | undefined {
  return agentIdViolation(id);
}

const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 4096;

/** Reads a handshake request; a string is the reason it is malformed. */
export function parseAuthRequest(v: unknown): AuthHello | AuthProve | string {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "request must be a JSON object";
  const r = v as Record<string, unknown>;
  const bad = idViolation(r["id"]);
  if (bad) return bad;
  if (!isStr(r["pub"])) return "pub must be a string";
  if (r["op"] === "hello") return { op: "hello", id: r["id"] as string, pub: r["pub"] };
  if (r["op"] !== "prove") return 'op must be "hello" or "prove"';
  if (!isStr(r["nonce"]) || !isStr(r["sig"])) return "nonce and sig must be strings";
  const g = r["grains"];
  if (g !== undefined && (g === null || typeof g !== "object" || Array.isArray(g))) return "grains must be an object";
  return {
    op: "prove",
    id: r["id"] as string,
    pub: r["pub"],
    nonce: r["nonce"],
    sig: r["sig"],
    ...(g !== undefined ? { grains: g as Record<string, unknown> } : {}),
  };
}

/** Reads a key command; a string is the reason it is malformed. */
export function parseWheelRequest(v: unknown): WheelRequest | string {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "request must be a JSON object";
  const r = v as Record<string, unknown>;
  for (const f of ["fun", "stamp", "request_id", "pub", "sig"]) if (!isStr(r[f])) return `${f} must be a string`;
  const kw = r["kwarg"] ?? {};
  if (kw === null || typeof kw !== "object" || Array.isArray(kw)) return "kwarg must be an object";
  return r as unknown as WheelRequest;
}
