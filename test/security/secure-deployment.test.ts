/**
 * The secure deployment, attacked (issue 13 item 3): nats-server with the generated auth, the
 * service and two real agents (test/helpers/secure-stack.ts). The agents' normal work (handshake,
 * events, jobs, mine) succeeds; with web1's own credentials, every step into web2's or the
 * service's business is refused by the server, and the state it aimed at is unchanged.
 */
import { after, before, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { jobDurable } from "../../src/bus/index.js";
import { agentInboxPrefix } from "../../src/keys/index.js";
import { runCli } from "../helpers/cli.js";
import { startSecureStack, type SecureStack } from "../helpers/secure-stack.js";
import { waitFor } from "../helpers/wait.js";

const enc = new TextEncoder();

/** Subscribes and returns the error the server answered with; fails if a message arrives instead. */
async function subscribeRefused(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  try {
    for await (const m of sub) assert.fail(`subscribed to ${subject} and received a message on ${m.subject}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return String(err);
  }
  return assert.fail(`the subscription to ${subject} ended without an error`);
}

/** A request on `subject`; returns the error (the server refuses the publish). */
async function requestRefused(nc: NatsConnection, subject: string, body = ""): Promise<string> {
  try {
    const r = await nc.request(subject, enc.encode(body), { timeout: 3000 });
    return assert.fail(`request on ${subject} was answered: ${r.string()}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return String(err);
  }
}

const violation = (op: "Publish" | "Subscription", subject: string) =>
  new RegExp(`Permissions Violation for ${op} to "${subject.replace(/[.*+?^${}()|[\]\\$]/g, "\\$&")}"`, "i");

describe("secure deployment: generated auth, two real agents", { timeout: 180_000 }, () => {
  let s: SecureStack;
  let admin: NatsConnection;
  let attacker: NatsConnection;

  before(async () => {
    s = await startSecureStack({
      agents: ["web1", "web2"],
      agentSettings: (id) =>
        id === "web2" ? { mine_functions: { "test.echo": ["mine-secret-of-web2"] } } : {},
    });
    admin = await s.connectService();
    attacker = await s.connectAs("web1");
  });
  after(async () => s?.stop());

  describe("the agents' normal work", () => {
    it("handshake: both agents are accepted and connected as their own NATS users", async () => {
      assert.deepEqual([...s.agents.keys()].sort(), ["web1", "web2"]);
      for (const a of s.agents.values()) assert.equal(a.conn.nc.isClosed(), false);
      const kv = await new Kvm(admin).open("keys");
      for (const id of ["web1", "web2"]) assert.ok(await kv.get(`accepted.${id}`), `accepted.${id}`);
    });

    it("jobs and returns: `reactor run` with the service key as --nkey reaches both agents", async () => {
      const r = await runCli(
        ["run", "web*", "test.echo", "hello", "--json", "--nkey", s.nats.serviceKeyFile, "--timeout", "30"],
        {
          NATS_URL: s.url,
          REACTOR_KEY_FILE: s.nats.serviceKeyFile,
          REACTOR_INSECURE_NATS: "",
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { web1: "hello", web2: "hello" });
    });

    it("events: an agent's beacon event is stored in EVENTS", async () => {
      await s.agents.get("web1")!.sink.emit("salt/beacon/web1/secure/probe", { id: "web1", ok: true });
      const jsm = await jetstreamManager(admin);
      const m = await waitFor(
        async () =>
          (await jsm.streams.getMessage("EVENTS", { last_by_subj: "evt.salt.beacon.web1.secure.probe" })) ??
          undefined,
        { what: "web1's beacon event" },
      );
      assert.equal(m.json<{ ok: boolean }>().ok, true);
      assert.ok(m.header.get("Reactor-Sig"), "signed by web1");
    });

    it("mine: an agent stores its own mine value", async () => {
      const kv = await new Kvm(admin).open("mine");
      const e = await waitFor(async () => (await kv.get("web2.test=2Eecho")) ?? undefined, {
        what: "web2's mine value",
        timeoutMs: 20_000,
      });
      assert.match(e.string(), /mine-secret-of-web2/);
    });
  });

  describe("as web1, against web2 and the service", () => {
    it("cannot connect without credentials", async () => {
      await assert.rejects(s.anonymous(), /Authorization Violation/i);
    });

    it("cannot subscribe to _INBOX.> (every reply on the server)", async () => {
      assert.match(await subscribeRefused(attacker, "_INBOX.>"), violation("Subscription", "_INBOX.>"));
    });

    it("cannot subscribe to web2's inbox prefix, even when using it as its own", async () => {
      const c = await s.connectAs("web1", { inboxPrefix: agentInboxPrefix("web2") });
      assert.match(
        await subscribeRefused(c, `${agentInboxPrefix("web2")}.>`),
        violation("Subscription", `${agentInboxPrefix("web2")}.>`),
      );
    });

    it("cannot subscribe to web2's jobs (job.web2), nor pull from web2's durable", async () => {
      assert.match(await subscribeRefused(attacker, "job.web2"), violation("Subscription", "job.web2"));
      const next = `$JS.API.CONSUMER.MSG.NEXT.JOBS.${jobDurable("web2")}`;
      assert.match(
        await requestRefused(attacker, next, JSON.stringify({ batch: 1, expires: 1_000_000_000 })),
        violation("Publish", next),
      );
    });

    it("cannot read web2's mine or minions values", async () => {
      const mineGet = "$JS.API.DIRECT.GET.KV_mine.$KV.mine.web2.test=2Eecho";
      assert.match(await requestRefused(attacker, mineGet), violation("Publish", mineGet));
      const minionGet = "$JS.API.DIRECT.GET.KV_minions.$KV.minions.web2";
      assert.match(await requestRefused(attacker, minionGet), violation("Publish", minionGet));
      // nor through the stream API (the subject-less direct get, a consumer, a message get)
      for (const api of [
        "$JS.API.DIRECT.GET.KV_mine",
        "$JS.API.STREAM.MSG.GET.KV_mine",
        "$JS.API.CONSUMER.CREATE.KV_mine",
      ]) {
        assert.match(
          await requestRefused(attacker, api, JSON.stringify({ last_by_subj: "$KV.mine.web2.test=2Eecho" })),
          violation("Publish", api),
        );
      }
    });

    it("cannot write keys/accepted.web2 (speak for web2 with its own key)", async () => {
      const kv = await new Kvm(admin).open("keys");
      const before = (await kv.get("accepted.web2"))!;
      const js = jetstream(attacker);
      const h = natsHeaders();
      await assert.rejects(
        js.publish(
          "$KV.keys.accepted.web2",
          enc.encode(JSON.stringify({ id: "web2", pub: "UATTACKER", state: "accepted" })),
          { headers: h, timeout: 3000 },
        ),
        violation("Publish", "$KV.keys.accepted.web2"),
      );
      const now = (await kv.get("accepted.web2"))!;
      assert.equal(now.revision, before.revision);
      assert.equal(now.string(), before.string());
    });

    it("cannot update or delete the JOBS stream, nor create or delete consumers", async () => {
      const jsm = await jetstreamManager(admin);
      const cfg = (await jsm.streams.info("JOBS")).config;
      for (const api of [
        "$JS.API.STREAM.UPDATE.JOBS",
        "$JS.API.STREAM.DELETE.JOBS",
        "$JS.API.STREAM.PURGE.JOBS",
        "$JS.API.STREAM.INFO.JOBS",
      ]) {
        assert.match(
          await requestRefused(attacker, api, JSON.stringify({ ...cfg, subjects: [">"] })),
          violation("Publish", api),
        );
      }
      const durable = jobDurable("web2");
      for (const api of [
        `$JS.API.CONSUMER.DELETE.JOBS.${durable}`,
        "$JS.API.CONSUMER.CREATE.JOBS",
        `$JS.API.CONSUMER.CREATE.JOBS.spy.job.web2`,
        `$JS.API.CONSUMER.DURABLE.CREATE.JOBS.spy`,
      ]) {
        assert.match(
          await requestRefused(
            attacker,
            api,
            JSON.stringify({ stream_name: "JOBS", config: { filter_subject: "job.web2" } }),
          ),
          violation("Publish", api),
        );
      }
      assert.deepEqual((await jsm.streams.info("JOBS")).config.subjects, cfg.subjects);
      assert.ok(await jsm.consumers.info("JOBS", durable), "web2's durable is still there");
    });

    it("cannot publish in web2's namespace (beacon, start, job return)", async () => {
      const js = jetstream(attacker);
      for (const subject of [
        "evt.salt.beacon.web2.x",
        "evt.salt.minion.web2.start",
        "evt.salt.job.j1.ret.web2",
        "evt.salt.auth",
        "evt.reactor.x",
      ]) {
        await assert.rejects(
          js.publish(subject, enc.encode("{}"), { timeout: 3000 }),
          violation("Publish", subject),
          subject,
        );
      }
      const jsm = await jetstreamManager(admin);
      assert.equal(
        await jsm.streams.getMessage("EVENTS", { last_by_subj: "evt.salt.beacon.web2.x" }),
        null,
        "nothing stored under web2's namespace",
      );
    });

    it("cannot answer reactor.auth (as web1 or as the bootstrap user)", async () => {
      assert.match(
        await subscribeRefused(attacker, "reactor.auth"),
        violation("Subscription", "reactor.auth"),
      );
      const boot = await s.connectBootstrap();
      assert.match(await subscribeRefused(boot, "reactor.auth"), violation("Subscription", "reactor.auth"));
      assert.match(await subscribeRefused(boot, "_INBOX.>"), violation("Subscription", "_INBOX.>"));
      const evt = "evt.salt.beacon.web9.x";
      assert.match(await requestRefused(boot, evt), violation("Publish", evt));
    });

    it("web1's own work still goes through after all of this", async () => {
      const r = await runCli(["run", "web1", "test.echo", "still-here", "--json"], {
        NATS_URL: s.url,
        NATS_NKEY: s.nats.serviceKeyFile,
        REACTOR_KEY_FILE: s.nats.serviceKeyFile,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { web1: "still-here" });
    });
  });
});
