/**
 * The service side of the handshake (`reactor.auth`): a stateless challenge (the nonce is signed by
 * the service key, so any replica can check it), proof of possession, Salt's decision, the writes,
 * the `salt/auth` event and a signed answer.
 */
import { randomBytes } from "node:crypto";
import {
  authProofBytes,
  authReplyBytes,
  decideAuth,
  fromBase64Url,
  isPublicKey,
  nonceBytes,
  stateOfAct,
  toBase64Url,
  verifySignature,
  type AuthChallenge,
  type AuthHello,
  type AuthOutcome,
  type AuthProve,
  type KeyPolicy,
  type ProtocolError,
} from "../core/auth/index.js";
import { errorMessage, type Logger } from "../core/index.js";
import { keyKey, readSlots, type KeyStore } from "./store.js";
import type { ServiceKey } from "./service-key.js";
import type { EmitFn } from "./wheel.js";
import { DEFAULT_HANDSHAKE_LIMITS, HandshakeGate, type HandshakeLimits } from "./handshake-limit.js";

/** What the handler needs. */
export interface AuthHandlerOptions {
  readonly store: KeyStore;
  readonly policy: KeyPolicy;
  readonly serviceKey: ServiceKey;
  readonly emit: EmitFn;
  readonly log: Logger;
  /** Seconds a pending agent waits between attempts (told in the answer). Default 10. */
  readonly retryS?: number;
  /** Lifetime of a nonce, ms. Default 60 s. */
  readonly nonceTtlMs?: number;
  /** Limits on new ids (pending cap, rates). Default DEFAULT_HANDSHAKE_LIMITS. */
  readonly limits?: HandshakeLimits;
  readonly now?: () => Date;
}

/** Handles one parsed request. */
export type AuthHandler = (req: AuthHello | AuthProve) => Promise<AuthChallenge | AuthOutcome | ProtocolError>;

const refuse = (error: string): ProtocolError => ({ ok: false, error });

/** Creates the handler. Attempts of one id are serialised within this process. */
export function createAuthHandler(o: AuthHandlerOptions): AuthHandler {
  const now = o.now ?? (() => new Date());
  const ttl = o.nonceTtlMs ?? 60_000;
  const locks = new Map<string, Promise<unknown>>();
  const sign = (b: Uint8Array) => toBase64Url(o.serviceKey.sign(b));
  const gate = new HandshakeGate(o.limits ?? DEFAULT_HANDSHAKE_LIMITS, () => now().getTime());
  let newIds: Promise<unknown> = Promise.resolve();
  /** New ids are decided one at a time (within this process), so the pending cap holds under concurrent handshakes. */
  const oneNewIdAtATime = <T>(f: () => Promise<T>): Promise<T> => {
    const run = newIds.then(f, f);
    newIds = run.catch(() => undefined);
    return run;
  };

  /** Refuses a new id over a limit: counted, reported (rate-limited) as reactor/security/key-flood. */
  const refuseNew = async (r: AuthProve, kind: "rate" | "prefix-rate" | "max-pending", message: string): Promise<ProtocolError> => {
    const report = gate.refuse(kind, r.id);
    if (report) {
      o.log.warn({ ...report }, "handshake flood: new ids refused");
      await o.emit("reactor/security/key-flood", { ...report, limits: { ...gate.limits } }).catch((err: unknown) => {
        o.log.error({ err: errorMessage(err) }, "cannot publish reactor/security/key-flood");
      });
    }
    return refuse(message);
  };

  const hello = (r: AuthHello): AuthChallenge => {
    const exp = String(now().getTime() + ttl);
    const rand = toBase64Url(randomBytes(18));
    return { ok: true, nonce: `${exp}.${rand}.${sign(nonceBytes(r.id, r.pub, exp, rand))}`, service: o.serviceKey.publicKey };
  };

  const nonceProblem = (r: AuthProve): string | undefined => {
    const [exp, rand, mac, extra] = r.nonce.split(".");
    if (!exp || !rand || !mac || extra !== undefined) return "malformed nonce";
    const sig = fromBase64Url(mac);
    if (!sig || !verifySignature(o.serviceKey.publicKey, nonceBytes(r.id, r.pub, exp, rand), sig)) return "nonce was not issued for this id and key";
    if (Number(exp) < now().getTime()) return "nonce expired";
    return undefined;
  };

  const prove = async (r: AuthProve): Promise<AuthOutcome | ProtocolError> => {
    const bad = nonceProblem(r);
    if (bad) return refuse(bad);
    const sig = fromBase64Url(r.sig);
    if (!sig || !verifySignature(r.pub, authProofBytes(r.id, r.pub, r.nonce), sig)) {
      o.log.warn({ id: r.id, pub: r.pub }, "auth proof of possession failed");
      return refuse("proof of possession failed");
    }
    const known = await readSlots(o.store, r.id);
    if (Object.keys(known.records).length > 0) return decide(r, known);
    // A new id: the only kind that grows the bucket. Known ids (a fleet restarting) are never limited.
    const over = gate.admit(r.id);
    if (over) return refuseNew(r, over.kind, over.message);
    return oneNewIdAtATime(() => decide(r, undefined));
  };

  /** Salt's decision and its writes; `known` is the id's stored keys, or undefined for a new id (re-read, capped). */
  const decide = async (r: AuthProve, known: Awaited<ReturnType<typeof readSlots>> | undefined): Promise<AuthOutcome | ProtocolError> => {
    const { slots, records } = known ?? (await readSlots(o.store, r.id));
    const d = decideAuth(slots, r.pub, { reject: o.policy.autoRejects(r.id), sign: o.policy.autoSigns(r.id, r.grains) });
    const cap = gate.limits.max_pending;
    if (known === undefined && Object.keys(records).length === 0 && d.act === "pend" && cap > 0 && (await o.store.keys("pending.>")).length >= cap) {
      return refuseNew(r, "max-pending", `too many pending keys (keys.max_pending ${cap}); accept or delete some, or try again later`);
    }
    const stamp = now().toISOString();
    for (const w of d.writes) {
      if (w.op === "delete") await o.store.delete(keyKey(w.state, r.id));
      else {
        const prev = Object.values(records).find((v) => v.value.pub === w.pub);
        await o.store.put(keyKey(w.state, r.id), { id: r.id, pub: w.pub, state: w.state, first_seen: prev?.value.first_seen ?? stamp, last_seen: stamp });
      }
    }
    const touched = d.writes.length === 0 ? records[stateOfAct(d.act)] : undefined;
    // A compare-and-set on the revision read: a key the wheel moved meanwhile (key.reject of a
    // pending key) is not brought back by this agent's retry.
    if (touched && touched.value.pub === r.pub) await o.store.update(touched.key, { ...touched.value, last_seen: stamp }, touched.revision);
    await o.emit("salt/auth", { id: r.id, pub: r.pub, result: d.result, act: d.act }).catch((err: unknown) => {
      o.log.error({ id: r.id, err: errorMessage(err) }, "cannot publish salt/auth");
    });
    o.log.info({ id: r.id, act: d.act }, "auth attempt");
    const state = stateOfAct(d.act);
    return { ok: true, state, act: d.act, service: o.serviceKey.publicKey, sig: sign(authReplyBytes(r.id, r.pub, r.nonce, state)), retry_s: o.retryS ?? 10 };
  };

  return async (req) => {
    if (!isPublicKey(req.pub)) return refuse("pub is not a public nkey");
    if (req.op === "hello") return hello(req);
    const prev = locks.get(req.id) ?? Promise.resolve();
    const run = prev.then(() => prove(req), () => prove(req));
    const settled = run.catch(() => undefined);
    locks.set(req.id, settled);
    void settled.then(() => locks.get(req.id) === settled && locks.delete(req.id));
    return run;
  };
}
