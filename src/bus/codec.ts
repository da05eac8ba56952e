/**
 * Events on the wire: subject from the tag (core/tag), data as the JSON payload, metadata in headers.
 * Decoding checks everything a sender could get wrong and throws InvalidEventError with the reason.
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import {
  checkJsonDepth,
  checkSize,
  EVENT_ENVELOPE_VERSION,
  InvalidEventError,
  subjectToTag,
  tagToSubject,
  validateData,
  type ReactorEvent,
} from "../core/index.js";

/** Header names of the event envelope. */
export const Header = {
  MsgId: "Nats-Msg-Id",
  Tag: "Reactor-Tag",
  Source: "Reactor-Source",
  Cause: "Reactor-Cause",
  Depth: "Reactor-Depth",
  Signature: "Reactor-Sig",
  Version: "Reactor-V",
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** An event ready to publish. */
export interface EncodedEvent {
  readonly subject: string;
  readonly headers: MsgHdrs;
  readonly payload: Uint8Array;
}

/** Encodes an event; throws EventTooLargeError over `maxBytes` (never truncates). */
export function encodeEvent(event: ReactorEvent, maxBytes: number): EncodedEvent {
  const payload = encoder.encode(JSON.stringify(event.data));
  checkSize(payload.byteLength, maxBytes);
  const h = natsHeaders();
  h.set(Header.MsgId, event.id);
  h.set(Header.Tag, event.tag);
  h.set(Header.Source, event.source);
  h.set(Header.Version, String(EVENT_ENVELOPE_VERSION));
  if (event.depth > 0) h.set(Header.Depth, String(event.depth));
  if (event.causationId) h.set(Header.Cause, event.causationId);
  if (event.signature) h.set(Header.Signature, event.signature);
  return { subject: tagToSubject(event.tag), headers: h, payload };
}

/**
 * Decodes a message into an event. Throws InvalidEventError when the payload is not a UTF-8 JSON
 * object, the tag header is missing or disagrees with the subject, the JSON is nested deeper than
 * MAX_DATA_DEPTH (checked before parsing), or the size is over the limit (EventTooLargeError).
 */
export function decodeEvent(subject: string, hdrs: MsgHdrs | undefined, payload: Uint8Array, maxBytes: number): ReactorEvent {
  checkSize(payload.byteLength, maxBytes);
  const tag = hdrs?.get(Header.Tag);
  if (!tag) throw new InvalidEventError(`no ${Header.Tag} header`, { kind: "no-tag" });
  let subjectTag: string;
  try {
    subjectTag = subjectToTag(subject);
  } catch (err) {
    throw new InvalidEventError(`subject is not an event subject`, { cause: err, kind: "bad-subject" });
  }
  if (subjectTag !== tag) throw new InvalidEventError(`${Header.Tag} header does not match the subject`, { kind: "tag-mismatch" });
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw new InvalidEventError("payload is not valid UTF-8", { kind: "not-utf8" });
  }
  checkJsonDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`payload is not valid JSON (${(err as Error).message})`, { kind: "not-json" });
  }
  const data = validateData(parsed);
  const id = hdrs?.get(Header.MsgId);
  if (!id) throw new InvalidEventError(`no ${Header.MsgId} header`, { kind: "bad-header" });
  const depthText = hdrs?.get(Header.Depth);
  const depth = depthText ? Number(depthText) : 0;
  if (!Number.isInteger(depth) || depth < 0) throw new InvalidEventError(`bad ${Header.Depth} header ${JSON.stringify(depthText?.slice(0, 40))}`, { kind: "bad-header" });
  const stamp = typeof data["_stamp"] === "string" ? data["_stamp"] : "";
  const cause = hdrs?.get(Header.Cause);
  const sig = hdrs?.get(Header.Signature);
  return {
    id,
    tag,
    data,
    stamp,
    source: hdrs?.get(Header.Source) || "unknown",
    depth,
    ...(cause ? { causationId: cause } : {}),
    ...(sig ? { signature: sig } : {}),
  };
}
