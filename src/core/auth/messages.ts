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
 * `reactor.mine.get` (queue group `reactor-mine`): `{op, id, args, stamp, request_id, sig}` signed
 * by the accepted key of agent `id` (mineRequestBytes), its reply subject under that agent's inbox
 * prefix -> `{ok: true, return}` or `{ok: false, error}`. `op` is `get` (args `{tgt, fun,
 * tgt_type}`: mine.get as that agent, under the mine ACL) or `names` (args `{}`: the names the
 * agent itself has stored, for mine.flush).
 */
import type { KeyState, AuthAct } from "./policy.js";
import { MAX_AGENT_ID_LENGTH, agentIdViolation } from "../agent-id.js";
import { encodeSegment } from "../tag.js";

/** Subject of the handshake. */
export const AUTH_SUBJECT = "reactor.auth";
/** Subject of the key wheel functions. */
export const WHEEL_KEY_SUBJECT = "reactor.wheel.key";
/** Queue group of the key service replicas. */
export const KEY_SERVICE_QUEUE = "reactor-keys";
/** Subject of agents' signed mine requests. */
export const MINE_REQUEST_SUBJECT = "reactor.mine.get";
/** Queue group of the mine endpoint replicas. */
export const MINE_SERVICE_QUEUE = "reactor-mine";

/**
 * The inbox prefix of an agent's connections: with the generated NATS auth only that agent may
 * subscribe under it, so a reply sent there reaches that agent only.
 */
export function agentInboxPrefix(agentId: string): string {
  return `_INBOX_${encodeSegment(agentId)}`;
}

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

/** What a mine request asks. */
export type MineRequestOp = "get" | "names";

/** A signed mine request of an agent. */
export interface MineRequest {
  readonly op: MineRequestOp;
  readonly id: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly stamp: string;
  readonly request_id: string;
  /** base64url signature of mineRequestBytes(id, op, args, stamp, request_id) by the agent's key. */
  readonly sig: string;
}

/** Reads a mine request; a string is the reason it is malformed. */
export function parseMineRequest(v: unknown): MineRequest | string {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "request must be a JSON object";
  const r = v as Record<string, unknown>;
  if (r["op"] !== "get" && r["op"] !== "names") return 'op must be "get" or "names"';
  const bad = idViolation(r["id"]);
  if (bad) return bad;
  for (const f of ["stamp", "request_id", "sig"]) if (!isStr(r[f])) return `${f} must be a string`;
  const args = r["args"] ?? {};
  if (args === null || typeof args !== "object" || Array.isArray(args)) return "args must be an object";
  return { op: r["op"], id: r["id"] as string, args: args as Record<string, unknown>, stamp: r["stamp"] as string, request_id: r["request_id"] as string, sig: r["sig"] as string };
}
