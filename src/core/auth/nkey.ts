/**
 * NATS nkeys (ed25519) without the nkeys package: decoding of public keys and seeds (base32 with a
 * CRC16 check) and signing/verifying with node:crypto, which is native and about 20x faster than
 * the pure-JS ed25519 of @nats-io/nkeys. Signatures are plain ed25519 and interoperate with nkeys.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { AuthError } from "../errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PREFIX_SEED = 144;
const PREFIX_USER = 160;
const PREFIX_SERVER = 104;
/** Public-key prefixes accepted as identities: users (`U...`, agents and the service) and servers (`N...`). */
const PUBLIC_PREFIXES = new Set([PREFIX_USER, PREFIX_SERVER]);
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

/** Something that signs bytes with an ed25519 key (an AgentIdentity, a ServiceKey). */
export interface Signer {
  /** Public nkey of the signing key. */
  readonly publicKey: string;
  sign(data: Uint8Array): Uint8Array;
}

function base32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** CRC16-XMODEM, as nkeys checksums keys. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function decodeChecked(text: string, what: string): Uint8Array {
  const raw = base32Decode(text.trim());
  if (!raw || raw.length < 4) throw new AuthError(`${what} is not an nkey`);
  const body = raw.subarray(0, raw.length - 2);
  const sum = raw[raw.length - 2]! | (raw[raw.length - 1]! << 8);
  if (crc16(body) !== sum) throw new AuthError(`${what} has a bad checksum`);
  return body;
}

/** The 32 raw bytes of a public nkey (`U...` or `N...`); throws AuthError on anything else. */
export function decodePublicKey(pub: string): Uint8Array {
  const body = decodeChecked(pub, "public key");
  if (body.length !== 33 || !PUBLIC_PREFIXES.has(body[0]!)) throw new AuthError("public key is not a user or server nkey");
  return body.subarray(1);
}

/** Whether `pub` is a well-formed public nkey. */
export function isPublicKey(pub: unknown): pub is string {
  if (typeof pub !== "string" || pub.length !== 56) return false;
  try {
    decodePublicKey(pub);
    return true;
  } catch {
    return false;
  }
}

const keyObjects = new Map<string, KeyObject>();

/** A node:crypto public key object for a public nkey (cached; the cache is bounded). */
export function publicKeyObject(pub: string): KeyObject {
  let key = keyObjects.get(pub);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, decodePublicKey(pub)]), format: "der", type: "spki" });
    if (keyObjects.size >= 10_000) keyObjects.delete(keyObjects.keys().next().value!);
    keyObjects.set(pub, key);
  }
  return key;
}

/** Checks an ed25519 signature of `data` by the key `pub`. False on a malformed key or signature. */
export function verifySignature(pub: string, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, publicKeyObject(pub), signature);
  } catch {
    return false;
  }
}

/** A fast signer from an nkey seed (`SU...`), for the service key and benchmarks. */
export function signerFromSeed(seed: string | Uint8Array): Signer {
  const text = typeof seed === "string" ? seed : new TextDecoder().decode(seed);
  const body = decodeChecked(text, "seed");
  const kind = body[0]! & 248;
  const role = ((body[0]! & 7) << 5) | ((body[1]! & 248) >> 3);
  if (kind !== PREFIX_SEED || body.length !== 34 || !PUBLIC_PREFIXES.has(role)) throw new AuthError("seed is not a user or server nkey seed");
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, body.subarray(2)]), format: "der", type: "pkcs8" });
  const rawPub = createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(SPKI_ED25519.length);
  const publicKey = encodePublicKey(role, rawPub);
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, priv)) };
}

function encodePublicKey(prefix: number, raw: Uint8Array): string {
  const body = new Uint8Array(33);
  body[0] = prefix;
  body.set(raw, 1);
  const sum = crc16(body);
  const all = new Uint8Array([...body, sum & 0xff, sum >> 8]);
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of all) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Salt-style fingerprint of a public key: sha256 of the key text as colon-separated hex pairs. */
export function fingerprint(pub: string): string {
  return createHash("sha256").update(pub).digest("hex").match(/../g)!.join(":");
}

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** Decodes base64url; undefined when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "base64url"));
}
