import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { createUser, fromPublic } from "@nats-io/nkeys";
import {
  compileKeyPolicy,
  createEventVerifier,
  decideAuth,
  decodePublicKey,
  eventSigningBytes,
  isPublicKey,
  namespaceViolation,
  ReplayGuard,
  signerFromSeed,
  signEvent,
  signJob,
  verifyJob,
  verifySignature,
  fingerprint,
  type Verdict,
} from "../../src/core/auth/index.js";
import { AuthError, createEvent, tagToSubject, type ReactorEvent } from "../../src/core/index.js";

const kindOf = (v: Verdict) => (v.ok ? "ok" : v.kind);
const NOW = Date.parse("2024-05-01T12:00:00.000Z");
const stamp = new Date(NOW).toISOString();

function agent() {
  const kp = createUser();
  return { kp, signer: signerFromSeed(kp.getSeed()), pub: kp.getPublicKey() };
}

describe("nkeys interop", () => {
  it("signerFromSeed derives the nkeys public key and signs what nkeys verifies, and back", () => {
    const { kp, signer, pub } = agent();
    assert.equal(signer.publicKey, pub);
    const data = new TextEncoder().encode("hello");
    assert.ok(fromPublic(pub).verify(data, signer.sign(data)));
    assert.ok(verifySignature(pub, data, kp.sign(data)));
    assert.ok(!verifySignature(pub, new TextEncoder().encode("hellO"), kp.sign(data)));
  });
  it("rejects malformed keys with AuthError and checks the checksum", () => {
    const { pub } = agent();
    assert.ok(isPublicKey(pub));
    const flipped = pub.slice(0, 10) + (pub[10] === "A" ? "B" : "A") + pub.slice(11);
    assert.throws(() => decodePublicKey(flipped), (e: unknown) => e instanceof AuthError && e.message === "public key has a bad checksum");
    assert.throws(() => decodePublicKey("not a key!"), (e: unknown) => e instanceof AuthError && e.message === "public key is not an nkey");
    assert.equal(isPublicKey(flipped), false);
  });
  it("fingerprints as colon-separated sha256 hex pairs", () => {
    assert.match(fingerprint(agent().pub), /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  });
});

describe("namespaces", () => {
  const cases: [string, string | undefined][] = [
    ["salt/beacon/web1/service/nginx", undefined],
    ["salt/beacon/web1/diskusage/", undefined],
    ["salt/beacon/web2/service/nginx", 'tag "salt/beacon/web2/service/nginx" is outside salt/beacon/web1/'],
    ["salt/beacon/web1.evil/x", 'tag "salt/beacon/web1.evil/x" is outside salt/beacon/web1/'],
    ["salt/minion/web1/start", undefined],
    ["salt/minion/web2/start", 'tag "salt/minion/web2/start" is outside salt/minion/web1/'],
    ["salt/mine/web1/app/changed", undefined],
    ["salt/mine/web2/app/changed", 'tag "salt/mine/web2/app/changed" is outside salt/mine/web1/'],
    ["salt/job/20240501120000000000/ret/web1", undefined],
    ["salt/job/20240501120000000000/ret/web2", 'job return "salt/job/20240501120000000000/ret/web2" is not for "web1"'],
    ["salt/auth", "salt/auth is sent only by the key service during the handshake"],
    ["salt/key", "tag prefix salt/ is reserved to the service"],
    ["reactor/security/x", "tag prefix reactor/ is reserved to the service"],
    ["myco/deploy/done", undefined],
  ];
  for (const [tag, want] of cases) it(`${tag} from web1`, () => assert.equal(namespaceViolation(tag, "web1"), want));
  it("data.id must be the sender", () => {
    assert.equal(namespaceViolation("myco/x", "web1", { id: "web2" }), 'data.id "web2" is not the sender "web1"');
    assert.equal(namespaceViolation("myco/x", "web1", { id: "web1" }), undefined);
  });
});

describe("key policy and Salt's _auth decision", () => {
  const cfg = { auto_accept: false, autosign: ["web*", "db[0-9]", "^cache-\\d+$", "exact.host"], autoreject: ["web-bad*"], autosign_grains: { role: ["web"] } };
  const p = compileKeyPolicy(cfg);
  it("autosign: exact, glob, regex; autoreject separately; grains", () => {
    assert.ok(p.autoSigns("web7"));
    assert.ok(p.autoSigns("db3"));
    assert.ok(p.autoSigns("cache-12"));
    assert.ok(p.autoSigns("exact.host"));
    assert.ok(!p.autoSigns("mail1"));
    assert.ok(p.autoSigns("mail1", { role: "web" }));
    assert.ok(!p.autoSigns("mail1", { role: ["web"] }));
    assert.ok(p.autoRejects("web-bad1"));
    assert.ok(compileKeyPolicy({ ...cfg, autosign: [], auto_accept: true }).autoSigns("anything"));
  });
  const A = "UA", B = "UB";
  it("new id: pend, accept (autosign), reject (autoreject wins)", () => {
    assert.deepEqual(decideAuth({}, A, { reject: false, sign: false }), { act: "pend", result: true, writes: [{ op: "put", state: "pending", pub: A }] });
    assert.deepEqual(decideAuth({}, A, { reject: false, sign: true }), { act: "accept", result: true, writes: [{ op: "put", state: "accepted", pub: A }] });
    assert.deepEqual(decideAuth({}, A, { reject: true, sign: true }), { act: "reject", result: false, writes: [{ op: "put", state: "rejected", pub: A }] });
  });
  it("accepted: same key accept, other key denied; rejected stays rejected", () => {
    assert.deepEqual(decideAuth({ accepted: A }, A, { reject: false, sign: false }), { act: "accept", result: true, writes: [] });
    assert.deepEqual(decideAuth({ accepted: A }, B, { reject: false, sign: true }), { act: "denied", result: false, writes: [{ op: "put", state: "denied", pub: B }] });
    assert.deepEqual(decideAuth({ rejected: A, accepted: A }, A, { reject: false, sign: true }), { act: "reject", result: false, writes: [] });
  });
  it("pending: same key pends or is auto-accepted, other key denied, autoreject moves it", () => {
    assert.deepEqual(decideAuth({ pending: A }, A, { reject: false, sign: false }), { act: "pend", result: true, writes: [] });
    assert.deepEqual(decideAuth({ pending: A }, A, { reject: false, sign: true }).writes, [
      { op: "put", state: "accepted", pub: A },
      { op: "delete", state: "pending" },
    ]);
    assert.equal(decideAuth({ pending: A }, B, { reject: false, sign: true }).act, "denied");
    assert.deepEqual(decideAuth({ pending: A }, B, { reject: true, sign: true }).writes, [
      { op: "put", state: "rejected", pub: A },
      { op: "delete", state: "pending" },
    ]);
  });
});

describe("event verifier", () => {
  const web1 = agent();
  const web2 = agent();
  const service = agent();
  const accepted = new Map([
    ["web1", web1.pub],
    ["web2", web2.pub],
  ]);
  const mk = (opts: { capacity?: number } = {}) =>
    createEventVerifier({ keys: { get: (id) => accepted.get(id) }, trusted: [service.pub], now: () => NOW, ...(opts.capacity ? { replayCapacity: opts.capacity } : {}) });
  const ev = (tag: string, source = "web1", data: Record<string, unknown> = {}, s = stamp): ReactorEvent => createEvent({ tag, data, source, stamp: s });

  it("accepts a signed event in the agent's namespace, once", () => {
    const v = mk();
    const e = signEvent(ev("salt/beacon/web1/load/", "web1", { id: "web1", "1m": 0.5 }), web1.signer);
    assert.deepEqual(v.verify(e), { ok: true, agentId: "web1", trusted: false, key: web1.pub });
    assert.deepEqual(v.verify(e), { ok: false, kind: "replay", reason: `event id ${e.id} was seen before (replay)` });
  });
  it("a redelivery of the same stream message is not a replay; a new message with the same id is", () => {
    const v = mk();
    const e = signEvent(ev("myco/x"), web1.signer);
    assert.equal(v.verify(e, undefined, undefined, 7).ok, true);
    assert.equal(v.verify(e, undefined, undefined, 7).ok, true);
    assert.equal(v.verify(e, undefined, undefined, 9).ok, false);
  });
  it("refuses unsigned events, unknown and pending agents", () => {
    const v = mk();
    const e = ev("myco/x", "web1");
    assert.deepEqual(v.verify(e), { ok: false, kind: "unsigned", reason: `event ${e.id} from "web1" is not signed` });
    const pending = agent();
    const p = signEvent(ev("salt/beacon/web9/x/", "web9"), pending.signer);
    assert.deepEqual(v.verify(p), { ok: false, kind: "unknown-key", reason: `event ${p.id}: "web9" has no accepted key` });
  });
  it("refuses a signature by another key, a tampered payload, tag, depth or subject", () => {
    const v = mk();
    const forged = signEvent(ev("myco/x", "web1"), web2.signer);
    assert.deepEqual(v.verify(forged), {
      ok: false,
      kind: "bad-signature",
      reason: `event ${forged.id}: the signature does not verify with the accepted key of "web1"`,
    });
    const good = signEvent(ev("myco/x", "web1", { n: 1 }), web1.signer);
    assert.equal(v.verify({ ...good, data: { ...good.data, n: 2 } }).ok, false);
    assert.equal(v.verify({ ...good, tag: "myco/y" }).ok, false);
    assert.equal(v.verify({ ...good, depth: 3 }).ok, false);
    const payload = new TextEncoder().encode(JSON.stringify({ ...good.data, n: 2 }));
    assert.equal(v.verify(good, tagToSubject(good.tag), payload).ok, false);
    assert.equal(v.verify(good, "evt.myco.z").ok, false);
    assert.equal(kindOf(v.verify({ ...good, signature: "!!" })), "bad-signature");
    assert.equal(v.verify(good, tagToSubject(good.tag), new TextEncoder().encode(JSON.stringify(good.data))).ok, true);
  });
  it("refuses foreign namespaces even with a valid signature", () => {
    const v = mk();
    const e = signEvent(ev("salt/beacon/web2/service/nginx", "web1"), web1.signer);
    assert.deepEqual(v.verify(e), { ok: false, kind: "namespace", reason: 'agent "web1": tag "salt/beacon/web2/service/nginx" is outside salt/beacon/web1/' });
    const auth = signEvent(ev("salt/auth", "web1", { id: "web1", act: "accept" }), web1.signer);
    assert.equal(kindOf(v.verify(auth)), "namespace");
  });
  it("trusts events signed by the service key, whatever the tag and source", () => {
    const v = mk();
    const e = signEvent(ev("salt/key", "cli", { id: "web1", act: "accept", result: true }), service.signer);
    assert.deepEqual(v.verify(e), { ok: true, agentId: "cli", trusted: true });
  });
  it("refuses stale and future events", () => {
    const v = mk();
    const old = signEvent(ev("myco/x", "web1", {}, new Date(NOW - 7 * 24 * 3600_000 - 60_000).toISOString()), web1.signer);
    assert.equal(kindOf(v.verify(old)), "stale");
    const buffered = signEvent(ev("myco/x", "web1", {}, new Date(NOW - 6 * 24 * 3600_000).toISOString()), web1.signer);
    assert.equal(v.verify(buffered).ok, true, "an event buffered for six days is still accepted");
    const future = signEvent(ev("myco/x", "web1", {}, new Date(NOW + 3600_000).toISOString()), web1.signer);
    assert.equal(kindOf(v.verify(future)), "stale");
  });
  it("replay memory is bounded and evicted ids stay refused", () => {
    const v = mk({ capacity: 3 });
    const events = [0, 1, 2, 3, 4].map((i) => signEvent(ev("myco/x", "web1", {}, new Date(NOW - 1000 + i).toISOString()), web1.signer));
    for (const e of events) assert.equal(v.verify(e).ok, true);
    assert.equal(kindOf(v.verify(events[0]!)), "replay");
    const g = new ReplayGuard(2);
    g.remember("a", 1);
    g.remember("b", 2);
    g.remember("c", 3);
    assert.equal(g.size, 2);
    assert.equal(g.lowWaterMark, 1);
    assert.equal(g.check("a", 1), "event stamped 1970-01-01T00:00:00.001Z is older than the replay window");
  });
});

describe("jobs and canonical bytes", () => {
  it("a job verifies only for its subject and payload and the service key", () => {
    const service = agent();
    const payload = new TextEncoder().encode('{"jid":"1","fun":"test.ping"}');
    const sig = signJob("job.web1", payload, service.signer);
    assert.ok(verifyJob("job.web1", payload, sig, service.pub));
    assert.ok(!verifyJob("job.web2", payload, sig, service.pub));
    assert.ok(!verifyJob("job.web1", new TextEncoder().encode('{"jid":"1","fun":"cmd.run"}'), sig, service.pub));
    assert.ok(!verifyJob("job.web1", payload, sig, agent().pub));
    assert.ok(!verifyJob("job.web1", payload, undefined, service.pub));
  });
  it("signing bytes are domain-separated and unambiguous", () => {
    const e = createEvent({ tag: "a/b", data: { x: 1 }, source: "web1", id: "i", stamp });
    const text = new TextDecoder().decode(eventSigningBytes(e));
    assert.equal(text, `["reactor-evt/1","evt.a.b","a/b","i","web1","","0"]\n{"x":1,"_stamp":"${stamp}"}`);
  });
});
