/**
 * The event model: what every part of nats-reactor passes around.
 * On the wire (bus/codec) the data object is the payload and the rest travels in headers.
 */
import { randomUUID } from "node:crypto";
import { EventTooLargeError, InvalidEventError } from "./errors.js";
import { validateTag } from "./tag.js";

/** Version of the event envelope (the headers and their meaning). */
export const EVENT_ENVELOPE_VERSION = 1;
/** Default size limit of an event's encoded data, in bytes (1 MiB). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Deepest nesting of objects and arrays accepted in event data. */
export const MAX_DATA_DEPTH = 64;

/** Event data: a JSON object. Salt's `_stamp` is always present once an event is created. */
export type EventData = Record<string, unknown>;

/** One event, as published and consumed. */
export interface ReactorEvent {
  /** Unique id; also the `Nats-Msg-Id`, so retried publishes are de-duplicated. */
  readonly id: string;
  /** Salt-style tag, e.g. `salt/beacon/web1/service/nginx`. */
  readonly tag: string;
  /** The data object, with `_stamp`. */
  readonly data: EventData;
  /** ISO-8601 UTC time the event was observed (equals `data._stamp`). */
  readonly stamp: string;
  /** Who sent it: an agent id, `reactor` (the service) or `cli`. */
  readonly source: string;
  /** Id of the event whose reaction caused this one, if any. */
  readonly causationId?: string;
  /** Length of the causation chain: 0 for events not caused by a reaction. */
  readonly depth: number;
  /** Signature of the sender (agents), base64url; checked by the reactor. */
  readonly signature?: string;
}

/** What a producer gives to create an event. */
export interface NewEvent {
  tag: string;
  data?: unknown;
  source?: string;
  id?: string;
  stamp?: string | Date;
  causationId?: string;
  depth?: number;
}

/** Builds a validated event: checks the tag and data, sets id and `_stamp`. */
export function createEvent(input: NewEvent): ReactorEvent {
  validateTag(input.tag);
  const data = validateData(input.data === undefined ? {} : input.data);
  const stamp =
    input.stamp instanceof Date
      ? input.stamp.toISOString()
      : (input.stamp ?? (typeof data["_stamp"] === "string" ? data["_stamp"] : new Date().toISOString()));
  const depth = input.depth ?? 0;
  if (!Number.isInteger(depth) || depth < 0) throw new InvalidEventError(`depth must be a non-negative integer, got ${depth}`);
  return {
    id: input.id ?? randomUUID(),
    tag: input.tag,
    data: { ...data, _stamp: stamp },
    stamp,
    source: input.source ?? "cli",
    ...(input.causationId !== undefined ? { causationId: input.causationId } : {}),
    depth,
  };
}

/** Checks that data is a plain JSON object of bounded depth; returns it typed. */
export function validateData(data: unknown): EventData {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new InvalidEventError(`data must be a JSON object, got ${describe(data)}`, { kind: "not-object" });
  }
  checkDepth(data, 1);
  return data as EventData;
}

function checkDepth(value: unknown, depth: number): void {
  if (value === null || typeof value !== "object") return;
  if (depth > MAX_DATA_DEPTH) throw tooDeep();
  for (const v of Array.isArray(value) ? value : Object.values(value)) checkDepth(v, depth + 1);
}

function tooDeep(): InvalidEventError {
  return new InvalidEventError(`data is nested deeper than ${MAX_DATA_DEPTH} levels`, { kind: "too-deep" });
}

/**
 * Refuses JSON text nested deeper than `max` levels before it is parsed: one linear pass, no
 * recursion. (JSON.parse of 1 MiB of `[` takes seconds of the event loop; this takes microseconds.)
 */
export function checkJsonDepth(text: string, max = MAX_DATA_DEPTH): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) throw tooDeep();
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** The index of the quote that closes the string opening at `open` (text.length when unterminated). */
function stringEnd(text: string, open: number): number {
  for (let j = open + 1; ; j++) {
    j = text.indexOf('"', j);
    if (j < 0) return text.length; // unterminated: JSON.parse refuses it
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}

/** Throws EventTooLargeError when an encoded payload is over the limit. */
export function checkSize(bytes: number, limit: number): void {
  if (bytes > limit) throw new EventTooLargeError(bytes, limit);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}
