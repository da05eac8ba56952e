/**
 * Issue 13 item 6: a flood of new ids in the handshake is capped (keys.max_pending) and rate-limited
 * (keys.new_id_*), reported as reactor/security/key-flood, and known agents still get in; ten ids
 * registered with one key share one event flood bucket (limits.per_source_rate per key).
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { createUser } from "@nats-io/nkeys";
import type { Connection } from "../../src/bus/index.js";
import { signerFromSeed } from "../../src/core/auth/index.js";
import { waitFor } from "../helpers/wait.js";
import { handshake, sendSigned, STACKS, type AttackStack } from "./stacks.js";

const MAX_PENDING = 50;
const REACTOR_YAML = `keys:
  service_key: service.nk
  autosign: [ 'sybil*' ]
  max_pending: ${MAX_PENDING}
limits: { per_source_rate: 5, per_source_burst: 10 }
reactor:
  - 'custom/flood':
      - reactors/empty.sls`;

for (const { name, start } of STACKS) {
  describe(`key and event floods against ${name}`, () => {
    let stack: AttackStack;
    let conn: Connection;
    const sybilSeed = new TextDecoder().decode(createUser().getSeed());
    const sybil = signerFromSeed(new TextEncoder().encode(sybilSeed));
    before(async () => {
      stack = await start({ reactorYaml: REACTOR_YAML, files: { "reactors/empty.sls": "" }, customEvents: ["custom/"] });
      conn = await stack.connect();
    });
    after(() => stack.stop());

    it("ten ids accepted with one key share one flood bucket: 30 events in a burst of 10 are partly dropped, reported per key", async () => {
      for (let n = 0; n < 10; n++) assert.equal((await handshake(conn, `sybil${n}`, sybil))["state"], "accepted");
      // the key is one NATS user (one per nkey: sybil0's), allowed custom/ events (nats.auth.custom_events)
      const sybilConn = await waitFor(() => stack.connectKey(sybilSeed, "sybil0").catch(() => undefined), { what: "the sybil key's NATS user", timeoutMs: 30_000 });
      // each id sends 3 events: 30 in all, within each id's own burst of 10 but 3 times the key's
      for (let i = 0; i < 3; i++) for (let n = 0; n < 10; n++) await sendSigned(sybilConn, sybil, "custom/flood", { n, i }, `sybil${n}`);
      const report = await waitFor(() => stack.events.find((e) => e.tag.startsWith("reactor/source/sybil") && e.tag.endsWith("/flood")), { what: `a flood report (service: ${stack.serviceLog().slice(-1000)})`, timeoutMs: 30_000 });
      assert.equal(report.data["limited_by"], "key");
      assert.equal(report.data["key"], sybil.publicKey);
    });

    it(`1,000 handshakes of new ids: at most ${MAX_PENDING} pending keys, the rest refused and reported; a known agent still gets in`, async () => {
      const ids = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `flood-${i}` : `h${i}x${i}`));
      const answers: Record<string, unknown>[] = [];
      const t0 = Date.now();
      for (let i = 0; i < ids.length; i += 50) answers.push(...(await Promise.all(ids.slice(i, i + 50).map((id) => handshake(conn, id)))));
      const seconds = (Date.now() - t0) / 1000;
      const pended = answers.filter((a) => a["state"] === "pending").length;
      const refused = answers.filter((a) => a["ok"] === false);
      const pre = ((await stack.wheel("key.list", { match: "pre" })).return as Record<string, string[]>)["minions_pre"] ?? [];
      assert.equal(pre.length, pended, "every pending answer is one stored key");
      assert.equal(pended, MAX_PENDING, `pending keys after 1,000 handshakes in ${seconds} s`);
      assert.equal(refused.length, 1000 - MAX_PENDING);
      assert.ok(refused.some((a) => /too many pending keys \(keys\.max_pending 50\)/.test(String(a["error"]))));
      assert.ok(refused.some((a) => /too many new ids/.test(String(a["error"]))), "the rate limits refused some too");
      const report = await waitFor(() => stack.events.find((e) => e.tag === "reactor/security/key-flood"), { what: "a key-flood report" });
      assert.ok(Number(report.data["refused"]) >= 1);
      assert.ok(stack.events.filter((e) => e.tag === "reactor/security/key-flood").length <= Math.ceil(seconds / 5) + 1, "reports are rate-limited");
      // a known agent is never limited: sybil0 (accepted above) authenticates again right away
      assert.equal((await handshake(conn, "sybil0", sybil))["state"], "accepted");
    });
  });
}
