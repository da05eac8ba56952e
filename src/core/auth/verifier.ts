/**
 * The service's check of every event (DESIGN.md 2.4): signed by an accepted agent key and inside
 * that agent's namespace, or signed by a trusted key (the service key, admin keys); fresh (not a
 * replay, not stale). Pure: the accepted keys come from a lookup kept fresh by the key service.
 */
import type { ReactorEvent } from "../event.js";
import { eventSigningBytes } from "./canonical.js";
import { namespaceViolation } from "./namespace.js";
import { fromBase64Url, verifySignature } from "./nkey.js";
import { ReplayGuard } from "./replay.js";

/** The accepted public key of an agent id, or undefined (unknown, pending, rejected, denied). */
export interface AcceptedKeys {
  get(id: string): string | undefined;
}

/** Why an event was refused (stable, for metrics and `reactor/security/<kind>` tags). */
export type VerifyFailure = "unsigned" | "unknown-key" | "bad-signature" | "namespace" | "replay" | "stale";

/** The verdict on one event. */
export type Verdict =
  | { readonly ok: true; readonly agentId: string; readonly trusted: boolean; /** The accepted key that verified an agent's event. */ readonly key?: string }
  | { readonly ok: false; readonly kind: VerifyFailure; readonly reason: string };

/** Options of the verifier. */
export interface EventVerifierOptions {
  readonly keys: AcceptedKeys;
  /** Public keys trusted for any tag and source: the service's own key and admin keys. */
  readonly trusted?: readonly string[];
  /** Event ids remembered for replay detection. Default 100,000. */
  readonly replayCapacity?: number;
  /**
   * Events stamped longer ago are refused (ms). Default 7 days, the EVENTS stream's default max age;
   * the service passes its `stream.max_age` (ids are remembered that long, see docs/security.md).
   */
  readonly maxAgeMs?: number;
  /** Events stamped further in the future are refused (ms). Default 5 min. */
  readonly maxSkewMs?: number;
  readonly now?: () => number;
}

/** Verifies events. */
export interface EventVerifier {
  /**
   * `subject` and `payload` are the message's own (default: recomputed from the event); `seq` the
   * stream sequence, so that a redelivery of the same message is not taken for a replay.
   */
  verify(event: ReactorEvent, subject?: string, payload?: Uint8Array, seq?: number): Verdict;
  /** Adds or removes a trusted key at run time. */
  setTrusted(keys: readonly string[]): void;
}

const fail = (kind: VerifyFailure, reason: string): Verdict => ({ ok: false, kind, reason });

/** Creates a verifier. */
export function createEventVerifier(opts: EventVerifierOptions): EventVerifier {
  let trusted = [...(opts.trusted ?? [])];
  const replay = new ReplayGuard(opts.replayCapacity ?? 100_000);
  const maxAge = opts.maxAgeMs ?? 7 * 24 * 3600_000;
  const maxSkew = opts.maxSkewMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;

  const signedBy = (event: ReactorEvent, subject?: string, payload?: Uint8Array): Verdict => {
    if (!event.signature) return fail("unsigned", `event ${event.id} from ${JSON.stringify(event.source)} is not signed`);
    const sig = fromBase64Url(event.signature);
    if (!sig || sig.length !== 64) return fail("bad-signature", `event ${event.id}: the signature is not 64 bytes of base64url`);
    const bytes = eventSigningBytes(event, subject, payload);
    const agentKey = opts.keys.get(event.source);
    if (agentKey && verifySignature(agentKey, bytes, sig)) {
      const bad = namespaceViolation(event.tag, event.source, event.data);
      return bad ? fail("namespace", `agent ${JSON.stringify(event.source)}: ${bad}`) : { ok: true, agentId: event.source, trusted: false, key: agentKey };
    }
    if (trusted.some((k) => verifySignature(k, bytes, sig))) return { ok: true, agentId: event.source, trusted: true };
    if (!agentKey) return fail("unknown-key", `event ${event.id}: ${JSON.stringify(event.source)} has no accepted key`);
    return fail("bad-signature", `event ${event.id}: the signature does not verify with the accepted key of ${JSON.stringify(event.source)}`);
  };

  return {
    verify(event, subject, payload, seq = -1) {
      const v = signedBy(event, subject, payload);
      if (!v.ok) return v;
      const stamp = Date.parse(event.stamp);
      if (Number.isNaN(stamp)) return fail("stale", `event ${event.id} has no valid _stamp`);
      const t = now();
      if (stamp < t - maxAge) return fail("stale", `event ${event.id} stamped ${event.stamp} is older than ${maxAge / 1000} s`);
      if (stamp > t + maxSkew) return fail("stale", `event ${event.id} stamped ${event.stamp} is in the future`);
      const r = replay.check(event.id, stamp, seq);
      if (r) return fail("replay", r);
      replay.remember(event.id, stamp, seq);
      return v;
    },
    setTrusted(keys) {
      trusted = [...keys];
    },
  };
}
