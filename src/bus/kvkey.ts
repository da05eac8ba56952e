/**
 * KV keys. NATS KV keys allow only `[-/_=.a-zA-Z0-9]` with `.` as separator, so each part of a key
 * (an agent id such as `web01.example.com`, a function name) is escaped: bytes outside
 * `[-_a-zA-Z0-9]` become `=XX`. Lossless and bijective, like the tag codec.
 */
const SAFE = /^[A-Za-z0-9_-]$/;
const HEX = "0123456789ABCDEF";

/** Escapes one key part. */
export function encodeKeyPart(part: string): string {
  if (part.length === 0) return "=";
  let out = "";
  for (const b of new TextEncoder().encode(part)) {
    const c = String.fromCharCode(b);
    out += SAFE.test(c) ? c : `=${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Reverses encodeKeyPart. */
export function decodeKeyPart(token: string): string {
  if (token === "=") return "";
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "=") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** A KV key from parts: `kvKey("web1.example.com", "network.ip_addrs")`. */
export function kvKey(...parts: string[]): string {
  return parts.map(encodeKeyPart).join(".");
}

/** The parts of a key made by kvKey. */
export function kvKeyParts(key: string): string[] {
  return key.split(".").map(decodeKeyPart);
}
