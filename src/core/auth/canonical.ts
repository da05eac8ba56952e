/**
 * Canonical bytes that are signed. Each starts with a domain tag, so a signature made for one
 * purpose (an event, a job, a handshake proof) is never valid for another. The fixed fields are a
 * JSON array of strings (unambiguous: JSON escapes every separator), then a newline, then the exact
 * payload bytes as they travel.
 */
import type { ReactorEvent } from "../event.js";
import { tagToSubject } from "../tag.js";
import { toBase64Url, type Signer } from "./nkey.js";

/** Domain tags of the signed byte strings (versioned). */
export const SignDomain = {
  Event: "reactor-evt/1",
  Job: "reactor-job/1",
  AuthProof: "reactor-auth/1",
  AuthReply: "reactor-auth-reply/1",
  Nonce: "reactor-nonce/1",
  Wheel: "reactor-wheel/1",
  MineRequest: "reactor-mine/1",
} as const;

const encoder = new TextEncoder();

function frame(fields: readonly string[], payload?: Uint8Array): Uint8Array {
  const head = encoder.encode(JSON.stringify(fields) + "\n");
  if (!payload) return head;
  const out = new Uint8Array(head.byteLength + payload.byteLength);
  out.set(head, 0);
  out.set(payload, head.byteLength);
  return out;
}

/** The event's payload as the codec puts it on the wire: JSON of the data object. */
export function eventPayload(event: Pick<ReactorEvent, "data">): Uint8Array {
  return encoder.encode(JSON.stringify(event.data));
}

/**
 * What an event's signature covers: subject, tag, event id, source, causation id, depth, and the
 * payload bytes. `subject` defaults to the tag's subject; `payload` to the JSON of `event.data`.
 */
export function eventSigningBytes(
  event: Pick<ReactorEvent, "id" | "tag" | "data" | "source" | "causationId" | "depth">,
  subject = tagToSubject(event.tag),
  payload = eventPayload(event),
): Uint8Array {
  return frame([SignDomain.Event, subject, event.tag, event.id, event.source, event.causationId ?? "", String(event.depth)], payload);
}

/** The event signed by `signer` (base64url signature in `signature`, sent as the `Reactor-Sig` header). */
export function signEvent<E extends ReactorEvent>(event: E, signer: Pick<Signer, "sign">): E {
  return { ...event, signature: toBase64Url(signer.sign(eventSigningBytes(event))) };
}

/** What a job's signature covers: the job subject (so it cannot be redirected) and the payload. */
export function jobSigningBytes(subject: string, payload: Uint8Array): Uint8Array {
  return frame([SignDomain.Job, subject], payload);
}

/** What the agent signs in the handshake: its id, its public key and the service's nonce. */
export function authProofBytes(id: string, pub: string, nonce: string): Uint8Array {
  return frame([SignDomain.AuthProof, id, pub, nonce]);
}

/** What the service signs in its answer, so the agent knows the answer came from the service key. */
export function authReplyBytes(id: string, pub: string, nonce: string, result: string): Uint8Array {
  return frame([SignDomain.AuthReply, id, pub, nonce, result]);
}

/** What the service signs into a handshake nonce: the id and key it was issued to, expiry and randomness. */
export function nonceBytes(id: string, pub: string, expires: string, rand: string): Uint8Array {
  return frame([SignDomain.Nonce, id, pub, expires, rand]);
}

/** What an admin (the service key or an admin key) signs to call a wheel function. */
export function wheelRequestBytes(fun: string, kwarg: unknown, stamp: string, requestId: string): Uint8Array {
  return frame([SignDomain.Wheel, fun, JSON.stringify(kwarg), stamp, requestId]);
}

/**
 * What an agent signs to ask the service for mine data (`reactor.mine.get`): its id, the operation,
 * the JSON of its arguments, a stamp and a request id (freshness and replay).
 */
export function mineRequestBytes(id: string, op: string, args: unknown, stamp: string, requestId: string): Uint8Array {
  return frame([SignDomain.MineRequest, id, op, JSON.stringify(args), stamp, requestId]);
}
