/**
 * Issue 13 item 2, the ids: an agent named with targeting characters is refused at the handshake
 * (and by agent.yaml), so it never gets a key, a namespace or a place in a target.
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import type { Connection } from "../../src/bus/index.js";
import { KeyCommandError } from "../../src/core/index.js";
import { waitFor } from "../helpers/wait.js";
import { handshake, STACKS, type AttackStack } from "./stacks.js";

const ATTACK_IDS = ["web*", "web,*", "*", "web1 or db*", "G@os:Debian", "L@web1,db1", "web?", "web[12]", "a/b", "-rf"];

for (const { name, start } of STACKS) {
  describe(`agent ids against ${name}`, () => {
    let stack: AttackStack;
    let conn: Connection;
    before(async () => {
      stack = await start({ reactorYaml: "keys:\n  service_key: service.nk\n  auto_accept: true\nreactor: []" });
      conn = await stack.connect();
    });
    after(() => stack.stop());

    it("refuses ids with glob, list, compound or path syntax in the handshake, even with auto_accept; none is stored", async () => {
      for (const id of ATTACK_IDS) {
        const answer = await handshake(conn, id);
        assert.equal(answer["ok"], false, `${id}: ${JSON.stringify(answer)}`);
        assert.match(String(answer["error"]), /must be made of letters, digits/, id);
      }
      // the control: a plain id is accepted (auto_accept), so the refusals above are the rule's
      const ok = await handshake(conn, "web1.example.com");
      assert.equal(ok["state"], "accepted", JSON.stringify(ok));
      const all = (await stack.wheel("key.list_all")).return as Record<string, string[]>;
      assert.deepEqual(all, { minions: ["web1.example.com"], minions_pre: [], minions_rejected: [], minions_denied: [] });
      assert.ok(!stack.events.some((e) => e.tag === "salt/auth" && ATTACK_IDS.includes(String(e.data["id"]))), "no salt/auth for a refused id");
    });

    it("a real agent named web* does not start: agent.yaml refuses the id", async () => {
      const agent = await stack.startAgent("web*");
      await waitFor(() => agent.child.exitCode !== null, { what: "the agent exits" });
      assert.notEqual(agent.child.exitCode, 0);
      assert.match(agent.err(), /id must be made of letters, digits, '\.', '-' and '_'/);
    });

    it("key commands take id globs only: a match with compound syntax fails instead of matching", async () => {
      await assert.rejects(stack.wheel("key.accept", { match: "web1 or *" }), (e: unknown) => e instanceof KeyCommandError && /id glob "web1 or \*" may use only letters, digits/.test(e.message));
    });
  });
}
