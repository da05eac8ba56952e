/**
 * Event tags and their NATS subjects.
 *
 * A tag is Salt's `/`-separated string. On the wire it becomes `evt.` + one subject token per tag
 * segment. Each segment is encoded so that the mapping is lossless and bijective:
 * - bytes in `[A-Za-z0-9_-]` stand for themselves;
 * - every other byte of the segment's UTF-8 form becomes `%XX` (upper-case hex), so `.`, spaces,
 *   `*`, `>`, `%` and unicode never reach the subject as themselves;
 * - an empty segment (Salt's `inotify//etc/...` and trailing `/`) becomes the lone token `%`.
 * Decoding accepts only this canonical form, so every subject maps back to exactly one tag.
 */
import { InvalidSubjectError, InvalidTagError } from "./errors.js";

/** The subject prefix of every event. */
export const EVENT_SUBJECT_PREFIX = "evt";
/** Longest tag accepted, in characters. */
export const MAX_TAG_LENGTH = 2048;

const SAFE = /^[A-Za-z0-9_-]$/;
const SAFE_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) SAFE_BYTE[b] = SAFE.test(String.fromCharCode(b)) ? 1 : 0;
const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Throws InvalidTagError unless `tag` is a usable event tag. */
export function validateTag(tag: unknown): asserts tag is string {
  if (typeof tag !== "string") throw new InvalidTagError(String(tag), "a tag must be a string");
  if (tag.length === 0) throw new InvalidTagError(tag, "a tag must not be empty");
  if (tag.length > MAX_TAG_LENGTH) {
    throw new InvalidTagError(tag, `a tag must be at most ${MAX_TAG_LENGTH} characters, this one has ${tag.length}`);
  }
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      throw new InvalidTagError(tag, `control character U+${c.toString(16).padStart(4, "0").toUpperCase()} at position ${i}`);
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && i + 1 < tag.length && (tag.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) throw new InvalidTagError(tag, `lone surrogate at position ${i} (not valid unicode)`);
      i++;
    }
  }
}

/** Encodes one tag segment as one subject token. */
export function encodeSegment(segment: string): string {
  if (segment.length === 0) return "%";
  let out = "";
  let plain = true;
  for (let i = 0; i < segment.length; i++) {
    if (SAFE_BYTE[segment.charCodeAt(i)] !== 1 || segment.charCodeAt(i) > 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return segment;
  for (const b of encoder.encode(segment)) {
    out += SAFE_BYTE[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Decodes one subject token; throws InvalidSubjectError on anything but the canonical form. */
export function decodeSegment(token: string, subject = token): string {
  if (token === "%") return "";
  if (token.length === 0) throw new InvalidSubjectError(subject, "empty token");
  if (!token.includes("%")) {
    for (let i = 0; i < token.length; i++) {
      if (SAFE_BYTE[token.charCodeAt(i)] !== 1) throw new InvalidSubjectError(subject, `character ${JSON.stringify(token[i])} is not encoded`);
    }
    return token;
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x25) {
      const hi = HEX.indexOf(token[i + 1] ?? "");
      const lo = HEX.indexOf(token[i + 2] ?? "");
      if (hi < 0 || lo < 0) throw new InvalidSubjectError(subject, `bad escape at ${JSON.stringify(token.slice(i, i + 3))}`);
      const b = hi * 16 + lo;
      if (SAFE_BYTE[b] === 1) throw new InvalidSubjectError(subject, `needless escape %${token.slice(i + 1, i + 3)}`);
      bytes.push(b);
      i += 2;
    } else if (SAFE_BYTE[c] === 1) {
      bytes.push(c);
    } else {
      throw new InvalidSubjectError(subject, `character ${JSON.stringify(token[i])} is not encoded`);
    }
  }
  try {
    return strictDecoder.decode(new Uint8Array(bytes));
  } catch {
    throw new InvalidSubjectError(subject, "escapes are not valid UTF-8");
  }
}

/** The NATS subject of a tag: `evt.` + encoded segments. */
export function tagToSubject(tag: string): string {
  validateTag(tag);
  return `${EVENT_SUBJECT_PREFIX}.${tag.split("/").map(encodeSegment).join(".")}`;
}

/** The tag of an event subject; the inverse of tagToSubject. */
export function subjectToTag(subject: string): string {
  const prefix = `${EVENT_SUBJECT_PREFIX}.`;
  if (!subject.startsWith(prefix)) throw new InvalidSubjectError(subject, `does not start with ${prefix}`);
  const tag = subject
    .slice(prefix.length)
    .split(".")
    .map((t) => decodeSegment(t, subject))
    .join("/");
  validateTag(tag);
  return tag;
}

/**
 * A subject filter for the literal leading segments of a tag glob: `salt/beacon/*` ->
 * `evt.salt.beacon.>`. Used as a coarse pre-filter; the exact glob is matched on the tag.
 */
export function subjectFilterForPrefix(literalSegments: readonly string[]): string {
  return [EVENT_SUBJECT_PREFIX, ...literalSegments.map(encodeSegment), ">"].join(".");
}
