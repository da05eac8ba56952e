/**
 * Password checks of the `file` eauth back-end: Salt's `text` files (plain or hashed with a hashlib
 * name), Apache `htpasswd` (bcrypt, apr1 MD5, {SHA}, crypt) and `htdigest`. The hash libraries
 * (bcryptjs, apache-md5, apache-crypt) live here only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import bcrypt from "bcryptjs";
import { createRequire } from "node:module";
import type { FileEauthOptions } from "../config/index.js";

// CommonJS modules exporting one function (apache-md5's typings claim a default export it lacks).
const require = createRequire(import.meta.url);
const aprMd5 = require("apache-md5") as (password: string, salt: string) => string;
const crypt = require("apache-crypt") as (password: string, salt: string) => string;

/** Whether `password` is `user`'s password in the file. Reads the file on each call, as Salt does. */
export async function checkFilePassword(
  o: FileEauthOptions,
  user: string,
  password: string,
): Promise<boolean> {
  const text = await readFile(o.filename, "utf8");
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
  if (o.filetype === "text") {
    for (const line of lines) {
      const fields = line.split(o.field_separator);
      if (fields[o.username_field - 1] !== user) continue;
      const stored = fields[o.password_field - 1];
      if (stored === undefined) return false;
      const given =
        o.hashtype === "plaintext" ? password : createHash(o.hashtype).update(password).digest("hex");
      return same(given, o.hashtype === "plaintext" ? stored : stored.toLowerCase());
    }
    return false;
  }
  if (o.filetype === "htdigest") {
    for (const line of lines) {
      const [u, realm, hash] = line.split(":");
      if (u !== user || realm !== o.realm || hash === undefined) continue;
      return same(createHash("md5").update(`${user}:${realm}:${password}`).digest("hex"), hash);
    }
    return false;
  }
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i < 0 || line.slice(0, i) !== user) continue;
    return htpasswdMatch(line.slice(i + 1).trim(), password);
  }
  return false;
}

/** One htpasswd hash against a password. */
export function htpasswdMatch(hash: string, password: string): boolean {
  if (/^\$2[abxy]\$/.test(hash)) return bcrypt.compareSync(password, hash.replace(/^\$2[xy]\$/, "$2b$"));
  if (hash.startsWith("$apr1$") || hash.startsWith("$1$")) return same(aprMd5(password, hash), hash);
  if (hash.startsWith("{SHA}"))
    return same(`{SHA}${createHash("sha1").update(password).digest("base64")}`, hash);
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return same(crypt(password, hash.slice(0, 2)), hash);
  return false; // plaintext entries are refused, as Apache does on Linux
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
