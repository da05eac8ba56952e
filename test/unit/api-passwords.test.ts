/** The `file` eauth back-end's password files: Salt's text (plain and hashed), htpasswd (bcrypt, apr1, SHA, crypt) and htdigest. */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { checkFilePassword, htpasswdMatch } from "../../src/api/index.js";
import type { FileEauthOptions } from "../../src/config/index.js";

const base = { hashtype: "plaintext", field_separator: ":", username_field: 1, password_field: 2 } as const;

async function file(text: string): Promise<string> {
  const f = join(await mkdtemp(join(tmpdir(), "nr-eauth-")), "users");
  await writeFile(f, text);
  return f;
}

void describe("file eauth passwords", () => {
  it("text: plaintext and hashed (hashtype), custom separator and fields", async () => {
    const plain: FileEauthOptions = {
      ...base,
      filename: await file("# users\nfred:pw-fred\nwilma:pw-wilma\n"),
      filetype: "text",
    };
    assert.equal(await checkFilePassword(plain, "fred", "pw-fred"), true);
    assert.equal(await checkFilePassword(plain, "fred", "pw-wilma"), false);
    assert.equal(await checkFilePassword(plain, "nobody", "pw-fred"), false);
    const sha = createHash("sha256").update("s3cret").digest("hex");
    const hashed: FileEauthOptions = {
      ...base,
      filename: await file(`x|${sha}|fred\n`),
      filetype: "text",
      hashtype: "sha256",
      field_separator: "|",
      username_field: 3,
      password_field: 2,
    };
    assert.equal(await checkFilePassword(hashed, "fred", "s3cret"), true);
    assert.equal(await checkFilePassword(hashed, "fred", sha), false, "the hash itself is not the password");
  });

  it("htpasswd: bcrypt ($2y$ too), apr1, {SHA} and crypt; plaintext entries refused", async () => {
    const b = bcrypt.hashSync("pw", 4);
    assert.equal(htpasswdMatch(b, "pw"), true);
    assert.equal(htpasswdMatch(b.replace(/^\$2b\$/, "$2y$"), "pw"), true);
    assert.equal(htpasswdMatch(b, "PW"), false);
    // made by other tools: `openssl passwd -apr1 -salt 7sL6Rj7j pw` and perl's crypt("pw", "ab")
    assert.equal(htpasswdMatch("$apr1$7sL6Rj7j$yF8RmOXGY856aR3Zn/k7E0", "pw"), true);
    assert.equal(htpasswdMatch("$apr1$7sL6Rj7j$yF8RmOXGY856aR3Zn/k7E0", "pw2"), false);
    assert.equal(htpasswdMatch("abzlUXK5ed5rs", "pw"), true);
    assert.equal(htpasswdMatch("abzlUXK5ed5rs", "wp"), false);
    assert.equal(htpasswdMatch(`{SHA}${createHash("sha1").update("pw").digest("base64")}`, "pw"), true);
    assert.equal(htpasswdMatch("{SHA}AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "pw"), false);
    assert.equal(htpasswdMatch("pw", "pw"), false);
    const f: FileEauthOptions = { ...base, filename: await file(`fred:${b}\n`), filetype: "htpasswd" };
    assert.equal(await checkFilePassword(f, "fred", "pw"), true);
    assert.equal(await checkFilePassword(f, "fred", "nope"), false);
  });

  it("htdigest: user:realm:md5(user:realm:password), only in the configured realm", async () => {
    const h = createHash("md5").update("fred:salt:pw").digest("hex");
    const f: FileEauthOptions = {
      ...base,
      filename: await file(`fred:other:${h}\nfred:salt:${h}\n`),
      filetype: "htdigest",
      realm: "salt",
    };
    assert.equal(await checkFilePassword(f, "fred", "pw"), true);
    assert.equal(await checkFilePassword({ ...f, realm: "other" }, "fred", "pw"), false);
  });
});
