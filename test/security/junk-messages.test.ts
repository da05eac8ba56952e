/**
 * Attack: one publisher floods the subjects the service and an agent consume with junk (no headers,
 * a Reactor-Tag that does not match the subject, oversized, too-deep JSON, unsigned and forged
 * events; on job.<id>: malformed, too-deep and unsigned jobs), interleaved with valid signed events.
 * The attacker holds web1's NATS credentials: outside web1's namespace the server refuses every
 * kind (asserted); inside it (evt.salt.beacon.web1.>) the flood runs. job.<id> is the service's
 * alone (refusal asserted), so the junk jobs come from the service's user there.
 * Every valid event must be reacted to, every junk message removed from the work queue at once
 * (ack pending drains; nothing is redelivered until max_deliver), and the junk reported in bounded
 * summaries (`reactor/bus/invalid`, `reactor/security/rejected`), never one event per message.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { createEventPublisher, jobDurable, jobSubject } from "../../src/bus/index.js";
import { signEvent } from "../../src/core/auth/index.js";
import { createEvent } from "../../src/core/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { waitFor } from "../helpers/wait.js";
import { refusedByServer, STACKS, watchedStack } from "./stacks.js";

const PER_KIND = 400;
const VALID = 40;

const AGENT = "web1";

for (const { name, start } of STACKS) {
  describe(`junk messages cannot freeze the reactor: ${name}`, () => {
    const w = watchedStack(start, AGENT, { job_timeout: 10 });

    const returnsOf = (texts: Set<string>) =>
      new Set(w.seen.filter((e) => e.tag.startsWith("salt/job/") && e.data["fun"] === "test.echo" && texts.has(String(e.data["return"]))).map((e) => String(e.data["return"])));

    it("junk outside the agent's namespace is refused by the server; junk inside it is terminated at once, counted in summaries, and valid events keep flowing", async () => {
      // the attacker holds web1's NATS credentials; the valid events come from the service
      const bad = await w.stack.connect(AGENT);
      const key = await loadServiceKey(w.stack.serviceKeyFile);
      const signed = createEventPublisher(w.obs, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
      const unsigned = createEventPublisher(bad, { maxEventBytes: 1 << 20 });
      const hdr = (tag: string, id: string) => {
        const h = natsHeaders();
        h.set("Nats-Msg-Id", id);
        h.set("Reactor-Tag", tag);
        h.set("Reactor-Source", AGENT);
        h.set("Reactor-V", "1");
        return h;
      };
      const deep = "[".repeat(2000) + "]".repeat(2000);
      const huge = JSON.stringify({ host: AGENT, text: "x".repeat(6000) });
      const kinds = (subject: string, tag: string): (() => Promise<unknown>)[] => [
        () => bad.js.publish(subject, "{}"), // no headers at all
        () => bad.js.publish(subject, JSON.stringify({ host: AGENT, text: "t" }), { headers: hdr("attack/other", crypto.randomUUID()) }),
        () => bad.js.publish(subject, huge, { headers: hdr(tag, crypto.randomUUID()) }),
        () => bad.js.publish(subject, `{"a":${deep}}`, { headers: hdr(tag, crypto.randomUUID()) }),
        () => unsigned.publish(createEvent({ tag, data: { host: AGENT, text: "unsigned" } })),
        () => unsigned.publish({ ...createEvent({ tag, data: { host: AGENT, text: "forged" }, source: AGENT }), signature: "A".repeat(86) }),
      ];
      // outside web1's namespace (the reaction's own tag): every kind is refused by the server
      for (const attempt of kinds("evt.attack.echo", "attack/echo")) await refusedByServer(attempt, "evt.attack.echo");
      // inside it (a beacon tag web1 may send, with a reaction): the service must shrug it off
      const junk = kinds(`evt.salt.beacon.${AGENT}.echo`, `salt/beacon/${AGENT}/echo`);
      const texts = new Set<string>();
      const every = Math.floor((PER_KIND * junk.length) / VALID);
      for (let i = 0, v = 0; i < PER_KIND * junk.length; i++) {
        await junk[i % junk.length]!();
        if (i % every === 0 && v < VALID) {
          const text = `valid-${v++}`;
          texts.add(text);
          await signed.publish(createEvent({ tag: "attack/echo", data: { host: AGENT, text } }));
        }
      }
      await waitFor(() => returnsOf(texts).size === texts.size, {
        what: () => `all ${texts.size} valid events reacted to (got ${returnsOf(texts).size}); service: ${w.stack.serviceLog().slice(-800)}`,
        timeoutMs: 60_000,
      });
      const info = await waitFor(
        async () => {
          const i = await w.obs.jsm.consumers.info("EVENTS", "reactor");
          return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
        },
        { what: "the service's consumer to drain", timeoutMs: 30_000 },
      );
      assert.equal(info.num_redelivered, 0, "no junk message was redelivered");
      // Reporting is bounded and complete: the decode failures add up in reactor/bus/invalid, the
      // refused events in reactor/security/rejected (one by one, at most 10 a second, then summaries).
      const sum = (tag: string) => w.seen.filter((e) => e.tag === tag).reduce((n, e) => n + (typeof e.data["count"] === "number" && e.data["summary"] !== false ? e.data["count"] : 1), 0);
      await waitFor(() => sum("reactor/bus/invalid") === 4 * PER_KIND, { what: () => `4 x ${PER_KIND} invalid messages summed up (got ${sum("reactor/bus/invalid")})` });
      await waitFor(() => sum("reactor/security/rejected") === 2 * PER_KIND, { what: () => `2 x ${PER_KIND} rejections reported (got ${sum("reactor/security/rejected")})` });
      const invalid = w.seen.filter((e) => e.tag === "reactor/bus/invalid");
      const byKind: Record<string, number> = {};
      for (const e of invalid) for (const [k, n] of Object.entries(e.data["by_kind"] as Record<string, number>)) byKind[k] = (byKind[k] ?? 0) + n;
      assert.deepEqual(byKind, { "no-tag": PER_KIND, "tag-mismatch": PER_KIND, "too-large": PER_KIND, "too-deep": PER_KIND });
      // bounded by time, not by the junk: at most 10 one by one per second of the attack, plus summaries
      const reports = w.seen.filter((e) => e.tag === "reactor/security/rejected");
      const single = reports.filter((e) => e.data["summary"] !== true);
      const stamps = reports.map((e) => Date.parse(e.stamp));
      const spanS = (Math.max(...stamps) - Math.min(...stamps)) / 1000;
      assert.ok(reports.some((e) => e.data["summary"] === true && Number(e.data["count"]) > 1), "refusals past the first ten a second are summed up");
      assert.ok(single.length <= 10 * (Math.ceil(spanS) + 2), `${single.length} one-by-one reports over ${spanS} s: at most 10 a second`);
      assert.ok(reports.length < 2 * PER_KIND, `not one report per refused event (${reports.length} for ${2 * PER_KIND})`);
    });

    it("the agent cannot publish on its own job subject; junk jobs there (only the service may publish) are terminated at once and valid jobs keep flowing", async () => {
      const attacker = await w.stack.connect(AGENT);
      const subject = jobSubject(AGENT);
      await refusedByServer(() => attacker.js.publish(subject, "{}"), subject);
      // the agent's own robustness: junk from a publisher that may write job.<id> (the service's user)
      const bad = w.obs;
      const key = await loadServiceKey(w.stack.serviceKeyFile);
      const signed = createEventPublisher(w.obs, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
      const job = (text: string) => ({ jid: `2026${crypto.randomUUID()}`, fun: "test.echo", arg: [text], kwarg: {}, tgt: AGENT, tgt_type: "glob", timeout: 10, expires: new Date(Date.now() + 60_000).toISOString(), user: "attacker" });
      const deep = "[".repeat(3000) + "]".repeat(3000);
      const junk: (() => Promise<unknown>)[] = [
        () => bad.js.publish(subject, "{}"),
        () => bad.js.publish(subject, "not json"),
        () => bad.js.publish(subject, `{"jid":"x","fun":"test.echo","arg":${deep}}`),
        () => bad.js.publish(subject, JSON.stringify(job("unsigned-job"))), // not signed by the service
      ];
      const texts = new Set<string>();
      const every = Math.floor((PER_KIND * junk.length) / VALID);
      for (let i = 0, v = 0; i < PER_KIND * junk.length; i++) {
        await junk[i % junk.length]!();
        if (i % every === 0 && v < VALID) {
          const text = `job-valid-${v++}`;
          texts.add(text);
          await signed.publish(createEvent({ tag: "attack/echo", data: { host: AGENT, text } }));
        }
      }
      await waitFor(() => returnsOf(texts).size === texts.size, { what: () => `all ${texts.size} valid jobs run (got ${returnsOf(texts).size})`, timeoutMs: 60_000 });
      const info = await waitFor(
        async () => {
          const i = await w.obs.jsm.consumers.info("JOBS", jobDurable(AGENT));
          return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
        },
        { what: "the agent's job consumer to drain", timeoutMs: 30_000 },
      );
      assert.equal(info.num_redelivered, 0, "no junk job was redelivered");
      assert.equal(w.seen.filter((e) => e.tag.startsWith("salt/job/") && e.data["return"] === "unsigned-job").length, 0, "the unsigned job never ran");
      const refused = () => w.seen.filter((e) => e.tag === `salt/minion/${AGENT}/jobs/refused`).reduce((n, e) => n + Number(e.data["count"]), 0);
      await waitFor(() => refused() === 4 * PER_KIND, { what: () => `the agent's refusal summaries to add up to ${4 * PER_KIND} (got ${refused()})` });
    });
  });
}
