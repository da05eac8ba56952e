/**
 * Attack: capture a signed event off the bus, restart `reactor serve` (its in-memory replay window
 * is gone), and publish the captured message again once the stream's de-duplication window has
 * passed (the fixture's is 1 s). The copy must be refused as a replay and cause no reaction. The
 * same capture with a new Nats-Msg-Id (the event id) no longer verifies. The attacker holds web1's
 * credentials and replays web1's own signed beacon event (its namespace); a copy outside it is
 * refused by the server.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { createEventPublisher } from "../../src/bus/index.js";
import { signEvent } from "../../src/core/auth/index.js";
import { createEvent } from "../../src/core/index.js";
import { waitFor } from "../helpers/wait.js";
import { refusedByServer, STACKS, watchedStack } from "./stacks.js";

const AGENT = "web1";

for (const { name, start } of STACKS) {
  describe(`replay after a service restart: ${name}`, () => {
    const w = watchedStack(start, AGENT, { job_timeout: 10 });

    it("a captured signed event published again after a restart is refused and causes no reaction", async () => {
      // the attacker holds web1's credentials and key: it replays web1's own signed event
      const key = await w.stack.agentKey(AGENT);
      const pub = createEventPublisher(await w.stack.connect(AGENT), { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
      const tag = `salt/beacon/${AGENT}/echo`;
      const event = createEvent({ tag, data: { host: AGENT, text: "replay-me" }, source: AGENT });
      const { seq } = await pub.publish(event);
      const returns = () => w.seen.filter((e) => e.tag.startsWith("salt/job/") && e.data["return"] === "replay-me");
      await waitFor(() => returns().length === 1, { what: "the original event's reaction", timeoutMs: 30_000 });
      // what an eavesdropper holds: the stored message, byte for byte
      const captured = await w.obs.jsm.streams.getMessage("EVENTS", { seq });
      assert.ok(captured);
      await w.stack.restartService();
      const bad = await w.stack.connect(AGENT);
      // a copy of a service event (outside web1's namespace) cannot even be published
      await refusedByServer(() => bad.js.publish("evt.attack.echo", captured.data), "evt.attack.echo");
      const copy = (msgId?: string) => {
        const h = natsHeaders();
        for (const [k, v] of captured.header) h.set(k, msgId && k === "Nats-Msg-Id" ? msgId : v[0]!);
        return bad.js.publish(captured.subject, captured.data, { headers: h });
      };
      // until the server's de-dup window (1 s in the fixture) has passed, the copy is dropped by JetStream
      await waitFor(async () => !(await copy()).duplicate, { what: "the copy to be stored", timeoutMs: 20_000, intervalMs: 200 });
      const rej = await waitFor(() => w.seen.find((e) => e.tag === "reactor/security/rejected" && e.data["event_id"] === event.id), {
        what: () => `the copy's rejection (service: ${w.stack.serviceLog().slice(-600)})`,
        timeoutMs: 30_000,
      });
      assert.equal(rej.data["kind"], "replay");
      const other = crypto.randomUUID();
      await copy(other);
      const rej2 = await waitFor(() => w.seen.find((e) => e.tag === "reactor/security/rejected" && e.data["event_id"] === other), { what: "the re-labelled copy's rejection", timeoutMs: 30_000 });
      assert.notEqual(rej2.data["kind"], "replay", "a new id breaks the signature");
      await waitFor(
        async () => {
          const i = await w.obs.jsm.consumers.info("EVENTS", "reactor");
          return i.num_ack_pending === 0 && i.num_pending === 0;
        },
        { what: "the consumer to drain" },
      );
      // a reaction would be a second job return; one more signed event goes through the same agent after the copies
      const after = createEvent({ tag, data: { host: AGENT, text: "after-replay" }, source: AGENT });
      await pub.publish(after);
      await waitFor(() => w.seen.some((e) => e.tag.startsWith("salt/job/") && e.data["return"] === "after-replay"), { what: "the later event's reaction", timeoutMs: 30_000 });
      assert.equal(returns().length, 1, "the captured event caused no second reaction");
      assert.equal(w.seen.filter((e) => e.tag === `reactor/event/${event.id}/matched`).length, 1, "the copy was not matched again");
    });
  });
}
