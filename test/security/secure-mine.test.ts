/**
 * Agents' mine.get and mine.flush on the secure deployment (test/helpers/secure-stack.ts): an
 * agent's NATS user may touch only its own mine keys, so its mine.get asks the service
 * (`reactor.mine.get`, signed by the agent's key), which applies the mine ACL. Real nats-server with
 * the generated auth, the real service, three real agents; web2 publishes a public value and one
 * only lb* may read (allow_tgt). The endpoint is attacked with web1's own credentials: unsigned,
 * forged, another agent's key, replayed, stale.
 */
import { after, before, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { MINE_REQUEST_SUBJECT, mineRequestBytes, signerFromSeed, toBase64Url } from "../../src/core/auth/index.js";
import type { JobReturn } from "../../src/core/index.js";
import { runCli } from "../helpers/cli.js";
import { startSecureStack, type SecureStack } from "../helpers/secure-stack.js";
import { waitFor } from "../helpers/wait.js";

const enc = new TextEncoder();
const SECRET = "secret-of-web2-for-lb-only";

describe("secure deployment: agents' mine.get through the service, under the mine ACL", { timeout: 180_000 }, () => {
  let s: SecureStack;
  let admin: NatsConnection;
  let attacker: NatsConnection;

  /** Runs `fun` on a real agent through its executor (the module an agent job runs). */
  const run = async (id: string, fun: string, arg: unknown[], kwarg: Record<string, unknown> = {}): Promise<JobReturn> =>
    s.agents.get(id)!.executor.run({
      jid: `t-${randomUUID()}`,
      fun,
      arg,
      kwarg,
      tgt: id,
      tgt_type: "list",
      timeout: 30,
      expires: new Date(Date.now() + 60_000).toISOString(),
      user: "test",
    });

  /** A raw request on the endpoint; returns the parsed reply. */
  const ask = async (nc: NatsConnection, body: unknown): Promise<{ ok: boolean; error?: string; return?: unknown }> => {
    const r = await nc.request(MINE_REQUEST_SUBJECT, enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return r.json();
  };

  /** A request for `args` signed with `seedOf`'s key, naming agent `id`. */
  const signed = async (seedOf: string, id: string, args: Record<string, unknown>, o: { stamp?: string; request_id?: string } = {}) => {
    const stamp = o.stamp ?? new Date().toISOString();
    const request_id = o.request_id ?? randomUUID();
    const signer = signerFromSeed(await s.seed(seedOf));
    return { op: "get", id, args, stamp, request_id, sig: toBase64Url(signer.sign(mineRequestBytes(id, "get", args, stamp, request_id))) };
  };
  const secretArgs = { tgt: "*", fun: "db_secret", tgt_type: "glob" };

  before(async () => {
    s = await startSecureStack({
      agents: ["web1", "web2", "lb1"],
      agentSettings: (id) => ({
        grains: { roles: id.startsWith("web") ? ["web"] : ["lb"] },
        ...(id === "web2"
          ? {
              mine_functions: {
                "test.echo": ["public-of-web2"],
                db_secret: [{ mine_function: "test.echo" }, SECRET, { allow_tgt: "lb*" }],
              },
            }
          : {}),
      }),
    });
    admin = await s.connectService();
    attacker = await s.connectAs("web1");
    const kv = await new Kvm(admin).open("mine");
    const minions = await new Kvm(admin).open("minions");
    await waitFor(async () => ((await kv.get("web2.db_secret"))?.operation === "PUT" ? true : undefined), { what: "web2's mine values", timeoutMs: 20_000 });
    for (const id of ["web1", "web2", "lb1"]) {
      await waitFor(async () => ((await minions.get(id))?.operation === "PUT" ? true : undefined), { what: `${id}'s minion record` });
    }
  });
  after(async () => s?.stop());

  describe("mine.get run on an agent", () => {
    it("web1 reads web2's public value", async () => {
      const r = await run("web1", "mine.get", ["*", "test.echo"]);
      assert.equal(r.success, true, JSON.stringify(r.return));
      assert.deepEqual(r.return, { web2: "public-of-web2" });
    });

    it("web1 does not get the value web2 allows only to lb*; lb1 does", async () => {
      const web1 = await run("web1", "mine.get", ["*", "db_secret"]);
      assert.equal(web1.success, true, JSON.stringify(web1.return));
      assert.deepEqual(web1.return, {});
      const lb1 = await run("lb1", "mine.get", ["*", "db_secret"]);
      assert.equal(lb1.success, true, JSON.stringify(lb1.return));
      assert.deepEqual(lb1.return, { web2: SECRET });
    });

    it("Salt's grain form through `reactor run`: mine.get roles:web over two functions", async () => {
      const r = await runCli(
        ["run", "web1", "mine.get", "roles:web", "test.echo,db_secret", "tgt_type=grain", "--json", "--nkey", s.nats.serviceKeyFile, "--timeout", "30"],
        { NATS_URL: s.url, REACTOR_KEY_FILE: s.nats.serviceKeyFile, REACTOR_INSECURE_NATS: "" },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { web1: { "test.echo": { web2: "public-of-web2" }, db_secret: {} } });
    });

    it("a bad target fails on the agent with its position", async () => {
      const r = await run("web1", "mine.get", ["G@roles:web and (", "test.echo"], { tgt_type: "compound" });
      assert.equal(r.success, false);
      assert.match(String(r.return), /position/i);
    });
  });

  describe("the endpoint, attacked with web1's credentials", () => {
    it("answers a request signed by web1's own key (the control)", async () => {
      const r = await ask(attacker, await signed("web1", "web1", { tgt: "*", fun: "test.echo" }));
      assert.deepEqual(r, { ok: true, return: { web2: "public-of-web2" } });
    });

    it("refuses an unsigned request", async () => {
      const { sig: _sig, ...unsigned } = await signed("web1", "lb1", secretArgs);
      const r = await ask(attacker, unsigned);
      assert.equal(r.ok, false);
      assert.match(r.error!, /sig must be a string/);
    });

    it("refuses a request naming another agent (lb1) from web1's connection, even signed", async () => {
      const r = await ask(attacker, await signed("web1", "lb1", secretArgs));
      assert.deepEqual(r, { ok: false, error: "the reply subject must be under _INBOX_lb1" });
    });

    it("refuses web1's signature over other arguments (changed after signing)", async () => {
      const req = await signed("web1", "web1", { tgt: "*", fun: "test.echo" });
      const r = await ask(attacker, { ...req, args: secretArgs });
      assert.deepEqual(r, { ok: false, error: "the request is not signed by the accepted key of web1" });
    });

    it("refuses a request signed by another agent's key (lb1's, naming web1)", async () => {
      const r = await ask(attacker, await signed("lb1", "web1", secretArgs));
      assert.deepEqual(r, { ok: false, error: "the request is not signed by the accepted key of web1" });
    });

    it("refuses lb1's genuinely signed request when its reply would go to web1's inbox", async () => {
      const r = await ask(attacker, await signed("lb1", "lb1", secretArgs));
      assert.deepEqual(r, { ok: false, error: "the reply subject must be under _INBOX_lb1" });
    });

    it("refuses a replayed request and a stale one", async () => {
      const req = await signed("web1", "web1", { tgt: "*", fun: "test.echo" });
      assert.equal((await ask(attacker, req)).ok, true);
      const again = await ask(attacker, req);
      assert.equal(again.ok, false);
      assert.match(again.error!, /seen before \(replay\)/);
      const stale = await ask(attacker, await signed("web1", "web1", { tgt: "*", fun: "test.echo" }, { stamp: new Date(Date.now() - 3_600_000).toISOString() }));
      assert.deepEqual(stale, { ok: false, error: "the request is stale (check the clocks)" });
    });

    it("no refused request carried the secret, and the service still answers", async () => {
      const r = await run("lb1", "mine.get", ["web2", "db_secret"]);
      assert.deepEqual(r.return, { web2: SECRET });
    });
  });

  describe("mine.flush run on an agent", () => {
    it("deletes the agent's own values, configured, sent and left from an earlier life, without a listing", async () => {
      const kv = await new Kvm(admin).open("mine");
      // a value an earlier life of web2 stored under a name it no longer knows
      await kv.put("web2.old=2Efun", JSON.stringify({ id: "web2", fun: "old.fun", value: 1, stamp: new Date().toISOString(), interval_s: 3600 }));
      const sent = await run("web2", "mine.send", ["extra", "x"], { mine_function: "test.echo" });
      assert.equal(sent.success, true, JSON.stringify(sent.return));
      const live = async (id: string) => {
        const out: string[] = [];
        for await (const k of await kv.keys(`${id}.*`)) if ((await kv.get(k))?.operation === "PUT") out.push(k);
        return out.sort();
      };
      assert.deepEqual(await live("web2"), ["web2.db_secret", "web2.extra", "web2.old=2Efun", "web2.test=2Eecho"]);
      const r = await run("web2", "mine.flush", []);
      assert.equal(r.success, true, JSON.stringify(r.return));
      assert.deepEqual(await live("web2"), []);
      const after = await run("lb1", "mine.get", ["*", "db_secret"]);
      assert.deepEqual(after.return, {});
    });
  });
});
