/**
 * Request authentication of the netapi: bearer tokens and GitHub-style HMAC signatures, both
 * compared in constant time (digests of equal length, so neither content nor length leaks).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { HmacAlgorithm } from "../config/index.js";

/** Compares two secrets in constant time (also when their lengths differ). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** The token of an `Authorization: Bearer <token>` header, else undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer[ \t]+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Whether `header` (`sha256=<hex>` as GitHub sends it, or bare hex) signs `body` with `secret`. */
export function verifySignature(
  body: Buffer,
  header: string | undefined,
  secret: string,
  algorithm: HmacAlgorithm,
): boolean {
  if (header === undefined) return false;
  const value = header.trim();
  const hex = value.startsWith(`${algorithm}=`) ? value.slice(algorithm.length + 1) : value;
  if (!/^[0-9a-fA-F]+$/.test(hex)) return false;
  const expected = createHmac(algorithm, secret).update(body).digest("hex");
  return safeEqual(hex.toLowerCase(), expected);
}

/** Signs a body as GitHub does (`sha256=<hex>`); for tests and clients. */
export function signBody(body: Buffer | string, secret: string, algorithm: HmacAlgorithm = "sha256"): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(body).digest("hex")}`;
}
