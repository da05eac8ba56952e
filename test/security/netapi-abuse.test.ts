/**
 * Attacks on the webhooks of `reactor serve`: a malformed JSON body is the caller's error (400, not
 * 503), and requests with a bad token never use up the legitimate caller's rate bucket (they draw
 * on a bucket of their own per address, and get 429 once that is empty).
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { STACKS, type AttackStack } from "./stacks.js";

const TOKEN = "hook-token-0123456789"; // test/fixtures/security/reactor.yaml (burst 3, 1 a minute)

async function post(base: string, path: string, token: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(new URL(path, base), { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

for (const { name, start } of STACKS) {
  describe(`webhook abuse: ${name}`, () => {
    let stack: AttackStack;
    let base: string;
    before(async () => {
      stack = await start({ fixture: "security" });
      base = await stack.httpUrl();
    });
    after(async () => stack?.stop());

    it("a malformed JSON body answers 400 with the parse error", async () => {
      const r = await post(base, "/hook/deploy", TOKEN, "{not json");
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(String(r.body["error"]), /^the body is not valid JSON: /);
    });

    it("bad tokens do not use up the legitimate caller's bucket, and are throttled apart", async () => {
      const bad = [];
      for (let i = 0; i < 10; i++) bad.push((await post(base, "/hook/deploy", "wrong-token-0123456789", "{}")).status);
      assert.deepEqual(bad, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429], "failed authentications have a bucket of their own (burst 3)");
      // the legitimate caller, from the same address, still has its burst (the 400 above took one)
      const good = [];
      for (let i = 0; i < 2; i++) good.push((await post(base, "/hook/deploy", TOKEN, "{}")).status);
      assert.deepEqual(good, [202, 202]);
      assert.equal((await post(base, "/hook/deploy", TOKEN, "{}")).status, 429, "and its own limit still holds");
    });
  });
}
