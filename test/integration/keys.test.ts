import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createUser } from "@nats-io/nkeys";
import { openConnection, type Connection } from "../../src/bus/index.js";
import { authenticate, SERVICE_KEY_FILE } from "../../src/agent/index.js";
import { fingerprint, signerFromSeed, signEvent, type KeyPolicyConfig } from "../../src/core/auth/index.js";
import { AuthError, KeyCommandError, createEvent } from "../../src/core/index.js";
import {
  callKeyCommand,
  loadOrCreateServiceKey,
  openKeyStore,
  startEventVerifier,
  startKeyService,
  type KeyStore,
  type ServiceKey,
} from "../../src/keys/index.js";
import { natsForTests, uniqueName } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

/** Attaches a handler at once (no unhandled rejection while the test waits); resolves to the value or the error. */
function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => e as Error);
}

const NO_POLICY: KeyPolicyConfig = { auto_accept: false, autosign: [], autoreject: [], autosign_grains: {} };

function newAgent(id: string) {
  const s = signerFromSeed(createUser().getSeed());
  return { id, pub: s.publicKey, identity: { publicKey: s.publicKey, sign: s.sign }, signer: s };
}

describe("key service against a real nats-server", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;
  let serviceKey: ServiceKey;
  let dir: string;

  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url] });
    dir = await mkdtemp(join(tmpdir(), "nr-keys-"));
    serviceKey = await loadOrCreateServiceKey(join(dir, "service", "service.nk"));
  });
  after(async () => {
    await conn.close();
    await nats.stop();
  });

  /** A fresh bucket and service; events and deletions recorded. */
  async function service(policy: Partial<KeyPolicyConfig> = {}) {
    const store = await openKeyStore(conn, { bucket: uniqueName("keys"), storage: "memory" });
    const events: { tag: string; data: Record<string, unknown> }[] = [];
    const deleted: string[] = [];
    const svc = await startKeyService({
      conn,
      store,
      policy: { ...NO_POLICY, ...policy },
      serviceKey,
      emit: async (tag, data) => void events.push({ tag, data }),
      onDelete: async (id) => void deleted.push(id),
      retryS: 0.02,
    });
    return { store, svc, events, deleted };
  }

  async function run(agent: ReturnType<typeof newAgent>, opts: { stateDir?: string; signal?: AbortSignal; servicePub?: string } = {}) {
    const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), "nr-agent-")));
    return authenticate({ conn, id: agent.id, identity: agent.identity, stateDir, maxBackoffMs: 50, ...opts });
  }

  const authEvents = (events: { tag: string; data: Record<string, unknown> }[], id: string) => events.filter((e) => e.tag === "salt/auth" && e.data["id"] === id).map((e) => e.data);

  it("pends a new agent, accepts it by command, and the agent trusts the service key on first use", async () => {
    const { svc, events } = await service();
    try {
      const web1 = newAgent("web1.example.com");
      const stateDir = await mkdtemp(join(tmpdir(), "nr-agent-"));
      const session = run(web1, { stateDir });
      await waitFor(() => authEvents(events, web1.id).length >= 2, { what: "pending attempts" });
      assert.deepEqual(authEvents(events, web1.id)[0], { id: web1.id, pub: web1.pub, result: true, act: "pend" });
      assert.deepEqual((await svc.wheel.call("key.list_all")).return, { minions: [], minions_pre: [web1.id], minions_rejected: [], minions_denied: [] });
      assert.deepEqual(await svc.wheel.functions["key.accept"]!({ match: "web1*" }), { minions: [web1.id] });
      assert.deepEqual(events.find((e) => e.tag === "salt/key"), { tag: "salt/key", data: { id: web1.id, act: "accept", result: true } });
      const s = await session;
      assert.equal(s.servicePub, serviceKey.publicKey);
      assert.equal(s.serviceFingerprint, serviceKey.fingerprint);
      assert.deepEqual(authEvents(events, web1.id).at(-1), { id: web1.id, pub: web1.pub, result: true, act: "accept" });
      assert.equal((await readFile(join(stateDir, SERVICE_KEY_FILE), "utf8")).trim(), serviceKey.publicKey);
    } finally {
      await svc.stop();
    }
  });

  it("auto-accepts by autosign glob; autoreject wins over it and the agent stops", async () => {
    const { svc, events } = await service({ autosign: ["auto-*"], autoreject: ["auto-bad*"] });
    try {
      const good = newAgent("auto-1");
      await run(good);
      assert.deepEqual(authEvents(events, "auto-1"), [{ id: "auto-1", pub: good.pub, result: true, act: "accept" }]);
      const bad = newAgent("auto-bad1");
      await assert.rejects(run(bad), (e: unknown) => e instanceof AuthError && e.message === 'the service rejected the key of "auto-bad1" (delete it there with: reactor key delete auto-bad1)');
      assert.deepEqual(authEvents(events, "auto-bad1"), [{ id: "auto-bad1", pub: bad.pub, result: false, act: "reject" }]);
      assert.deepEqual((await svc.wheel.call("key.list_all")).return, { minions: ["auto-1"], minions_pre: [], minions_rejected: ["auto-bad1"], minions_denied: [] });
      assert.ok(!events.some((e) => e.tag === "salt/key"), "auto-accept fires salt/auth only, as Salt");
    } finally {
      await svc.stop();
    }
  });

  it("denies an accepted id presenting another key; after delete the rebuilt host is accepted again", async () => {
    const { svc, events, deleted } = await service({ autosign: ["web2"] });
    const ac = new AbortController();
    let retrying: Promise<unknown> = Promise.resolve();
    try {
      const old = newAgent("web2");
      await run(old);
      const rebuilt = newAgent("web2");
      retrying = settle(run(rebuilt, { signal: ac.signal }));
      await waitFor(() => authEvents(events, "web2").filter((e) => e["act"] === "denied").length >= 2, { what: "denied attempts" });
      assert.deepEqual(authEvents(events, "web2").find((e) => e["act"] === "denied"), { id: "web2", pub: rebuilt.pub, result: false, act: "denied" });
      assert.deepEqual((await svc.wheel.call("key.list_all")).return, { minions: ["web2"], minions_pre: [], minions_rejected: [], minions_denied: ["web2"] });
      const fingers = (await svc.wheel.call("key.finger", { match: "web2" })).return;
      assert.deepEqual(fingers, { minions: { web2: fingerprint(old.pub) }, minions_denied: { web2: fingerprint(rebuilt.pub) } });
      // What matches after the deletion: nothing, or already the rebuilt host's key, which retries
      // every 20 ms and which autosign accepts as soon as the old key is gone.
      const left = await svc.wheel.functions["key.delete"]!({ match: "web2" });
      assert.ok(JSON.stringify(left) === "{}" || JSON.stringify(left) === '{"minions":["web2"]}', JSON.stringify(left));
      assert.deepEqual(deleted, ["web2"]);
      assert.deepEqual(
        events.filter((e) => e.tag === "salt/key").map((e) => e.data),
        [
          { id: "web2", act: "delete", result: true },
          { id: "web2", act: "delete", result: true },
        ],
      );
      const s = (await retrying) as Awaited<ReturnType<typeof run>> | Error; // autosign accepts the new key once the old one is gone
      assert.ok(!(s instanceof Error), String(s));
      assert.equal(s.servicePub, serviceKey.publicKey);
      assert.deepEqual((await svc.wheel.call("key.list")).return, { minions: ["web2"], minions_pre: [], minions_rejected: [], minions_denied: [] });
    } finally {
      ac.abort();
      await retrying;
      await svc.stop();
    }
  });

  it("key.accept and key.reject matching nothing say so; reject and include_rejected as Salt", async () => {
    const { svc, events } = await service();
    try {
      assert.deepEqual(await svc.wheel.call("key.accept", { match: "nope*" }), {
        return: {},
        success: false,
        comment: "The key glob 'nope*' does not match any unaccepted keys.",
      });
      const a = newAgent("mail1");
      const ac = new AbortController();
      const p = settle(run(a, { signal: ac.signal }));
      await waitFor(() => authEvents(events, "mail1").length >= 1, { what: "pending" });
      assert.deepEqual(await svc.wheel.call("key.reject", { match: "mail1" }), { return: { minions_rejected: ["mail1"] }, success: true });
      assert.ok((await p) instanceof AuthError);
      assert.deepEqual(await svc.wheel.call("key.accept", { match: "mail1" }), {
        return: { minions_rejected: ["mail1"] },
        success: false,
        comment: "The key glob 'mail1' does not match any unaccepted keys.",
      });
      assert.deepEqual(await svc.wheel.call("key.accept", { match: "mail1", include_rejected: true }), { return: { minions: ["mail1"] }, success: true });
      await assert.rejects(svc.wheel.call("key.bogus"), (e: unknown) => e instanceof KeyCommandError && e.message.startsWith("key.bogus: unknown key function"));
    } finally {
      await svc.stop();
    }
  });

  it("refuses a service key that changed, and a forged proof", async () => {
    const { svc } = await service({ auto_accept: true });
    try {
      const a = newAgent("pinned");
      const other = signerFromSeed(createUser().getSeed()).publicKey;
      await assert.rejects(run(a, { servicePub: other }), (e: unknown) => e instanceof AuthError && e.message.startsWith("the service key changed"));
      const reply = await conn.nc.request("reactor.auth", new TextEncoder().encode(JSON.stringify({ op: "prove", id: "x", pub: a.pub, nonce: "1.2.3", sig: "AA" })));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.data)), { ok: false, error: "nonce was not issued for this id and key" });
    } finally {
      await svc.stop();
    }
  });

  it("key commands over NATS need a trusted signature", async () => {
    const { svc } = await service({ auto_accept: true });
    try {
      await run(newAgent("n1"));
      assert.deepEqual((await callKeyCommand(conn, "key.list", { match: "acc" }, serviceKey)).return, { minions: ["n1"] });
      const stranger = signerFromSeed(createUser().getSeed());
      await assert.rejects(
        callKeyCommand(conn, "key.delete", { match: "*" }, stranger),
        (e: unknown) => e instanceof KeyCommandError && e.message === "key.delete: key commands must be signed by the service key or an admin key",
      );
    } finally {
      await svc.stop();
    }
  });

  it("the verifier follows the bucket: unknown, pending, accepted, deleted", async () => {
    const { svc, store, events } = await service({ autosign: ["ok*"] });
    const verifier = await startEventVerifier(store as KeyStore, { trusted: [serviceKey.publicKey] });
    try {
      const ok = newAgent("ok1");
      const pend = newAgent("pend1");
      const ev = (a: ReturnType<typeof newAgent>) => signEvent(createEvent({ tag: `salt/beacon/${a.id}/load/`, data: { id: a.id }, source: a.id }), a.signer);
      assert.equal(verifier.verify(ev(ok)).ok, false);
      await run(ok);
      const ac = new AbortController();
      const p = settle(run(pend, { signal: ac.signal }));
      await waitFor(() => authEvents(events, "pend1").length >= 1, { what: "pending" });
      await waitFor(() => verifier.verify(ev(ok)).ok, { what: "the cache to see ok1" });
      const pe = ev(pend);
      assert.deepEqual(verifier.verify(pe), { ok: false, kind: "unknown-key", reason: `event ${pe.id}: "pend1" has no accepted key` });
      ac.abort();
      assert.ok((await p) instanceof AuthError);
      await svc.wheel.call("key.delete", { match: "ok1" });
      await waitFor(() => !verifier.verify(ev(ok)).ok, { what: "the cache to drop ok1" });
    } finally {
      await verifier.stop();
      await svc.stop();
    }
  });

  it("`reactor key list --json` prints Salt's four lists", async () => {
    const { svc } = await service({ autosign: ["cli*"] });
    const ac = new AbortController();
    let p: Promise<unknown> = Promise.resolve();
    try {
      await run(newAgent("cli1"));
      p = settle(run(newAgent("zpend"), { signal: ac.signal }));
      await waitFor(async () => JSON.stringify((await svc.wheel.call("key.list", { match: "pre" })).return).includes("zpend"), { what: "pending" });
      const out = await runKeyCli(["key", "list", "--json", "--nats", nats.url, "--key", serviceKey.seedFile]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, JSON.stringify({ minions: ["cli1"], minions_pre: ["zpend"], minions_rejected: [], minions_denied: [] }) + "\n");
      const acc = await runKeyCli(["key", "accept", "zp*", "-y", "--nats", nats.url, "--key", serviceKey.seedFile]);
      assert.equal(acc.stdout, "Key for minion zpend accepted.\n", acc.stderr);
      assert.ok(!((await p) instanceof Error));
      const none = await runKeyCli(["key", "accept", "nothing*", "-y", "--nats", nats.url, "--key", serviceKey.seedFile]);
      assert.deepEqual([none.code, none.stderr], [1, "The key glob 'nothing*' does not match any unaccepted keys.\n"]);
    } finally {
      ac.abort();
      await p;
      await svc.stop();
    }
  });
});

/** Runs `registerKey` in a real process (the lead registers it in src/cli/main.ts). */
function runKeyCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const mod = new URL("../../src/cli/commands/key.js", import.meta.url).href;
  const script = `import { Command } from "commander"; import { registerKey } from ${JSON.stringify(mod)};
const p = new Command("reactor"); registerKey(p); await p.parseAsync(process.argv.slice(1), { from: "user" });`;
  const cwd = fileURLToPath(new URL("../..", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
