/**
 * The file server on the authenticated stack (generated NATS auth, real agents): an agent reads
 * `salt://` files through its own NATS user (direct gets of the store only), and with that user's
 * credentials cannot put, overwrite or delete an object, rewrite the index, purge or delete the
 * store's streams, or create a consumer on them; the store is unchanged afterwards.
 */
import { after, before, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { job } from "../fixtures/agent/harness.js";
import { startSecureStack, type SecureStack } from "../helpers/secure-stack.js";

const enc = new TextEncoder();
const MOTD = "served by the file server\n";

async function requestRefused(nc: NatsConnection, subject: string, body = ""): Promise<string> {
  try {
    const r = await nc.request(subject, enc.encode(body), { timeout: 3000 });
    return assert.fail(`request on ${subject} was answered: ${r.string()}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return String(err);
  }
}
const violation = (subject: string) =>
  new RegExp(
    `Permissions Violation for Publish to "${subject.replace(/[.*+?^${}()|[\]\\$]/g, "\\$&")}"`,
    "i",
  );

describe("file server on the secure stack", { timeout: 180_000 }, () => {
  let s: SecureStack;
  let admin: NatsConnection;
  let attacker: NatsConnection;

  before(async () => {
    s = await startSecureStack({ agents: ["web1"], fixture: "fileserver" });
    admin = await s.connectService();
    attacker = await s.connectAs("web1");
  });
  after(async () => s?.stop());

  it("the agent reads salt:// files with its own NATS user (cp.get_file_str, cp.list_master)", async () => {
    const ex = s.agents.get("web1")!.executor;
    const r = await ex.run(job("cp.get_file_str", ["salt://files/motd"]));
    assert.equal(r.success, true, JSON.stringify(r.return));
    assert.equal(r.return, MOTD);
    const l = await ex.run(job("cp.list_master", []));
    assert.deepEqual(l.return, ["files/motd", "reactor/echo.sls"]);
  });

  it("the agent cannot put, overwrite or delete an object, nor rewrite the index; the store is unchanged", async () => {
    const store = await new Objm(jetstream(admin)).open("fileserver");
    const before = await store.info("base/files/motd");
    assert.ok(before);
    // the library cannot even open the store with the agent's user (it asks $JS.API.INFO first)
    await assert.rejects(new Objm(jetstream(attacker)).open("fileserver"), violation("$JS.API.INFO"));
    // and on the wire: chunk and meta subjects, the index key
    const js = jetstream(attacker);
    const meta = `$O.fileserver.M.${Buffer.from("base/files/motd").toString("base64url")}=`;
    for (const subj of [
      "$O.fileserver.C.evilchunk",
      meta,
      "$KV.fileserver-index.env.base",
      "$KV.fileserver-index.envs",
    ]) {
      await assert.rejects(js.publish(subj, enc.encode("{}"), { timeout: 3000 }), violation(subj));
    }
    const after = await store.info("base/files/motd");
    assert.equal(after?.digest, before.digest);
    assert.equal(after?.revision, before.revision);
    assert.equal(new TextDecoder().decode((await store.getBlob("base/files/motd"))!), MOTD);
    const idx = await (await new Kvm(admin).open("fileserver-index")).get("env.base");
    assert.ok(idx?.string().includes('"files/motd"'));
  });

  it("the agent cannot purge or delete the store's streams, delete messages, read stream info, or create a consumer", async () => {
    const jsm = await jetstreamManager(admin);
    const msgs = (await jsm.streams.info("OBJ_fileserver")).state.messages;
    for (const api of [
      "$JS.API.STREAM.PURGE.OBJ_fileserver",
      "$JS.API.STREAM.DELETE.OBJ_fileserver",
      "$JS.API.STREAM.MSG.DELETE.OBJ_fileserver",
      "$JS.API.STREAM.UPDATE.OBJ_fileserver",
      "$JS.API.STREAM.INFO.OBJ_fileserver",
      "$JS.API.STREAM.MSG.GET.OBJ_fileserver",
      "$JS.API.CONSUMER.CREATE.OBJ_fileserver",
      "$JS.API.STREAM.PURGE.KV_fileserver-index",
      "$JS.API.STREAM.DELETE.KV_fileserver-index",
    ]) {
      assert.match(await requestRefused(attacker, api, JSON.stringify({ seq: 1 })), violation(api));
    }
    assert.equal((await jsm.streams.info("OBJ_fileserver")).state.messages, msgs);
  });
});
