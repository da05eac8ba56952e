/**
 * The agent side of the handshake (docs/security.md): prove possession of the agent key against a
 * service nonce, wait while pending (every `retry_s`, with jitter), back off while denied, stop when
 * rejected. The service key is the one configured, else trusted on first use: its fingerprint is
 * logged on first contact and it is stored in `<state_dir>/service.pub`; a later change is refused.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Connection } from "../bus/index.js";
import {
  AUTH_SUBJECT,
  authProofBytes,
  authReplyBytes,
  fingerprint,
  fromBase64Url,
  isPublicKey,
  toBase64Url,
  verifyJob,
  verifySignature,
  type AuthChallenge,
  type AuthOutcome,
  type ProtocolError,
} from "../core/auth/index.js";
import { AuthError, errorMessage, silentLogger, type Logger } from "../core/index.js";
import type { AgentIdentity } from "./identity.js";

/** File of the trusted service key in the state directory. */
export const SERVICE_KEY_FILE = "service.pub";

/** Options of authenticate(). */
export interface AuthClientOptions {
  readonly conn: Connection;
  readonly id: string;
  readonly identity: Pick<AgentIdentity, "publicKey" | "sign">;
  readonly stateDir: string;
  /** The service's public key from the agent config (`service_pub`); without it or a fingerprint, trust on first use. */
  readonly servicePub?: string;
  /** The service key's fingerprint from the agent config (`service_finger`, Salt's `master_finger`). */
  readonly serviceFinger?: string;
  /** Grains offered for the service's autosign_grains. */
  readonly grains?: Readonly<Record<string, unknown>>;
  /** Longest wait between attempts while denied or unanswered, ms. Default 5 min. */
  readonly maxBackoffMs?: number;
  /** Wait for an answer, ms. Default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Wait when the service does not say (no answer), ms. Default 10 s. */
  readonly retryMs?: number;
  readonly log?: Logger;
  readonly signal?: AbortSignal;
  /** Random source of the jitter (tests). */
  readonly random?: () => number;
}

/** An accepted agent's view of its service. */
export interface AuthSession {
  readonly servicePub: string;
  readonly serviceFingerprint: string;
  /** Whether a job payload on `subject` carries the service's signature. */
  verifyJob(subject: string, payload: Uint8Array, signature: string | undefined): boolean;
}

const enc = new TextEncoder();

/** Authenticates until accepted. Throws AuthError when rejected, when the service key changed, or when aborted. */
export async function authenticate(o: AuthClientOptions): Promise<AuthSession> {
  const log = (o.log ?? silentLogger).child({ component: "auth" });
  const pinned = o.servicePub ?? (await readPinned(o.stateDir));
  let denied = 0;
  let failures = 0;
  for (;;) {
    if (o.signal?.aborted) throw new AuthError("authentication aborted");
    let outcome: { answer: AuthOutcome; service: string } | string;
    try {
      outcome = await attempt(o, pinned);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      outcome = `no answer on ${AUTH_SUBJECT}: ${errorMessage(err)}`;
    }
    if (typeof outcome === "string") {
      log.warn({ reason: outcome }, "authentication attempt failed");
      // No service yet (both starting together is common): retry soon, then back off to retryMs.
      await pause(jitter(Math.min(o.retryMs ?? 10_000, 250 * 2 ** Math.min(failures++, 16)), o), o.signal);
      continue;
    }
    failures = 0;
    const { answer, service } = outcome;
    if (answer.state === "accepted") return accepted(o, service, pinned === undefined, log);
    if (answer.state === "rejected") throw new AuthError(`the service rejected the key of ${JSON.stringify(o.id)} (delete it there with: reactor key delete ${o.id})`);
    if (answer.state === "denied") {
      log.error({ id: o.id }, `the service holds another key for this id; delete it there with: reactor key delete ${o.id}`);
      await pause(backoff(answer.retry_s * 1000, denied++, o), o.signal);
    } else {
      log.info({ id: o.id, fingerprint: fingerprint(o.identity.publicKey) }, "key pending on the service; waiting to be accepted");
      await pause(jitter(answer.retry_s * 1000, o), o.signal);
    }
  }
}

async function attempt(o: AuthClientOptions, pinned: string | undefined): Promise<{ answer: AuthOutcome; service: string } | string> {
  const pub = o.identity.publicKey;
  const challenge = await request<AuthChallenge>(o, { op: "hello", id: o.id, pub });
  if (!challenge.ok) return challenge.error;
  if (!isPublicKey(challenge.service)) return "the service key in the answer is not a public nkey";
  if (pinned === undefined && o.serviceFinger !== undefined && fingerprint(challenge.service) !== o.serviceFinger) {
    throw new AuthError(`the service key's fingerprint ${fingerprint(challenge.service)} is not service_finger ${o.serviceFinger} of the agent config; refusing it`);
  }
  if (pinned !== undefined && challenge.service !== pinned) {
    throw new AuthError(`the service key changed: trusted ${fingerprint(pinned)}, offered ${fingerprint(challenge.service)}; refusing it (remove ${SERVICE_KEY_FILE} from the state directory to trust the new one)`);
  }
  const sig = toBase64Url(o.identity.sign(authProofBytes(o.id, pub, challenge.nonce)));
  const answer = await request<AuthOutcome>(o, { op: "prove", id: o.id, pub, nonce: challenge.nonce, sig, ...(o.grains ? { grains: o.grains } : {}) });
  if (!answer.ok) return answer.error;
  const replySig = fromBase64Url(answer.sig);
  if (!replySig || !verifySignature(challenge.service, authReplyBytes(o.id, pub, challenge.nonce, answer.state), replySig)) {
    return "the answer is not signed by the service key";
  }
  return { answer, service: challenge.service };
}

async function request<T>(o: AuthClientOptions, body: object): Promise<T | ProtocolError> {
  const msg = await o.conn.nc.request(AUTH_SUBJECT, enc.encode(JSON.stringify(body)), { timeout: o.requestTimeoutMs ?? 5000 });
  return JSON.parse(new TextDecoder().decode(msg.data)) as T | ProtocolError;
}

async function accepted(o: AuthClientOptions, service: string, firstUse: boolean, log: Logger): Promise<AuthSession> {
  const serviceFingerprint = fingerprint(service);
  if (firstUse) {
    await writeFile(join(o.stateDir, SERVICE_KEY_FILE), `${service}\n`, { mode: 0o644 });
    if (o.serviceFinger !== undefined) log.info({ service, fingerprint: serviceFingerprint }, "service key matches service_finger; stored");
    else log.warn({ service, fingerprint: serviceFingerprint }, "trusting the service key on first contact; check its fingerprint with `reactor key finger` on the service host");
  }
  log.info({ id: o.id }, "key accepted");
  return { servicePub: service, serviceFingerprint, verifyJob: (subject, payload, signature) => verifyJob(subject, payload, signature, service) };
}

async function readPinned(stateDir: string): Promise<string | undefined> {
  try {
    const pub = (await readFile(join(stateDir, SERVICE_KEY_FILE), "utf8")).trim();
    if (!isPublicKey(pub)) throw new AuthError(`${join(stateDir, SERVICE_KEY_FILE)} does not hold a public nkey`);
    return pub;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

function jitter(ms: number, o: AuthClientOptions): number {
  return Math.round(ms * (0.75 + 0.5 * (o.random ?? Math.random)()));
}

function backoff(baseMs: number, n: number, o: AuthClientOptions): number {
  return jitter(Math.min(o.maxBackoffMs ?? 300_000, baseMs * 2 ** Math.min(n, 16)), o);
}

/** Waits `ms`, or rejects with an AuthError when `signal` aborts first. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AuthError("authentication aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AuthError("authentication aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
