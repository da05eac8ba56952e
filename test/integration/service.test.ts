import { strict as assert } from "node:assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger, startService, type ServiceHandle } from "../../src/apps/index.js";
import {
  createEventPublisher,
  JOBS_STREAM,
  kvKey,
  openConnection,
  openKv,
  watchEvents,
  type Connection,
  type EventPublisher,
} from "../../src/bus/index.js";
import { ConfigErrors, createEvent, tagToSubject, type JobRequest, type ReactorEvent } from "../../src/core/index.js";
import { signEvent, signerFromSeed } from "../../src/core/auth/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { fixtureDir } from "../helpers/stack.js";
import { registerMinion } from "../helpers/minions.js";


describe("reactor service against a real nats-server", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;
  let pub: EventPublisher;
  let unsignedPub: EventPublisher;
  let service: ServiceHandle;
  let dir: string;
  const audit: ReactorEvent[] = [];
  const jobs: { subject: string; job: JobRequest }[] = [];

  before(async () => {
    nats = await natsForTests();
    dir = await fixtureDir("service");
    service = await startService({ configPath: join(dir, "reactor.yaml"), nats: nats.url, log: createLogger({ level: "warn" }) });
    conn = await openConnection({ servers: [nats.url] });
    // events of this test are signed with the service key, as `reactor event send` on the service host does
    const key = await loadServiceKey(join(dir, "service.nk"));
    pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
    unsignedPub = createEventPublisher(conn, { maxEventBytes: 1 << 20 });
    for (const id of ["web1", "web2.example.com", "db1"]) await registerMinion(conn, id, { roles: [id.startsWith("web") ? "web" : "db"] });
    await waitFor(() => service.minions.list().length === 3, { what: "minion directory" });
    const w = await watchEvents(conn, "EVENTS", { filter: "evt.reactor.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    void (async () => {
      for await (const d of w) audit.push(d.event);
    })();
    const c = await conn.js.consumers.get(JOBS_STREAM, { filter_subjects: "job.>" });
    void (async () => {
      for await (const m of await c.consume()) jobs.push({ subject: m.subject, job: m.json<JobRequest>() });
    })();
  });
  after(async () => {
    await service.stop();
    await conn.close();
    await nats.stop();
  });

  const auditFor = (id: string, kind: string) => audit.filter((e) => e.tag === `reactor/event/${id}/${kind}`);

  it("turns a service beacon event into a restart job for that agent, and audits it", async () => {
    const ev = createEvent({ tag: "salt/beacon/web2.example.com/service/nginx", data: { id: "web2.example.com", service_name: "nginx", running: false, nginx: { running: false } }, source: "web2.example.com" });
    await pub.publish(ev);
    const dispatched = await waitFor(() => auditFor(ev.id, "dispatched")[0], { what: "dispatched audit" });
    assert.equal(dispatched.data["ok"], true);
    assert.deepEqual(dispatched.data["targets"], ["web2.example.com"]);
    const job = await waitFor(() => jobs.find((j) => j.job.jid === dispatched.data["jid"]), { what: "the job" });
    assert.equal(job.subject, "job.web2%2Eexample%2Ecom");
    assert.equal(job.job.fun, "service.restart");
    assert.deepEqual(job.job.kwarg, { name: "nginx" });
    assert.equal(job.job.causationId, ev.id);
    assert.equal(job.job.depth, 1);
    const matched = auditFor(ev.id, "matched")[0]!;
    assert.deepEqual(matched.data["entries"], ["restart failed services"]);
  });

  it("does not react when the condition is false", async () => {
    const ev = createEvent({ tag: "salt/beacon/web1/service/nginx", data: { id: "web1", service_name: "nginx", running: true } });
    const marker = createEvent({ tag: "myco/echo/marker", data: { hosts: ["db1"], text: "m" } });
    await pub.publish(ev);
    await pub.publish(marker);
    await waitFor(() => auditFor(marker.id, "dispatched").length === 1, { what: "marker processed" });
    await waitFor(() => service.engine.counters.received >= 3, { what: "both events received" });
    assert.equal(auditFor(ev.id, "matched").length, 0);
  });

  it("throttles a storm: max 2 per key, the rest dropped and reported", async () => {
    const evs = Array.from({ length: 5 }, () =>
      createEvent({ tag: "salt/beacon/db1/service/postgres", data: { id: "db1", service_name: "postgres", running: false } }),
    );
    for (const e of evs) await pub.publish(e);
    await waitFor(() => evs.every((e) => auditFor(e.id, "dispatched").length + auditFor(e.id, "dropped").length === 1), { what: "5 decisions" });
    const dropped = evs.flatMap((e) => auditFor(e.id, "dropped"));
    assert.equal(dropped.length, 3);
    assert.equal(dropped[0]!.data["reason"], "throttled");
    assert.equal(dropped[0]!.data["key"], "db1/postgres");
  });

  it("keeps event data as data: a list of hosts fans out, a value with YAML in it stays a string", async () => {
    const text = "x: y\n- evil: {{ 7*7 }}";
    const ev = createEvent({ tag: "myco/echo/1", data: { hosts: ["web1", "db1"], text } });
    await pub.publish(ev);
    await waitFor(() => auditFor(ev.id, "dispatched").length === 2, { what: "2 dispatches" });
    const mine = await waitFor(() => {
      const js = jobs.filter((j) => j.job.causationId === ev.id);
      return js.length === 2 ? js : undefined;
    }, { what: "2 jobs" });
    assert.deepEqual(mine.map((j) => j.job.arg), [[text], [text]]);
    assert.deepEqual(mine.map((j) => j.subject).sort(), ["job.db1", "job.web1"]);
  });

  it("reports a render error with file and line, and still runs the other file's reactions", async () => {
    const ev = createEvent({ tag: "myco/broken", data: { id: "web1", service_name: "ssh" } });
    await pub.publish(ev);
    const err = await waitFor(() => auditFor(ev.id, "error")[0], { what: "error audit" });
    const errors = err.data["errors"] as { file: string; line: number; message: string }[];
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.file, /reactors\/broken\.sls$/);
    assert.equal(errors[0]!.line, 3);
    assert.match(errors[0]!.message, /'nope'/);
    await waitFor(() => auditFor(ev.id, "dispatched").length === 1, { what: "the other file's reaction" });
  });

  it("runs each reaction once when an event is delivered again", async () => {
    const ev = signEvent(createEvent({ tag: "myco/echo/2", data: { hosts: ["web1"], text: "once" } }), await loadServiceKey(join(dir, "service.nk")));
    const { seq } = await pub.publish(ev);
    await waitFor(() => auditFor(ev.id, "dispatched").length === 1, { what: "first dispatch" });
    const before = service.engine.counters.duplicates;
    // the same message delivered again (as after a crash before the ack): the ledger says it is done
    await service.engine.handle(ev, { subject: tagToSubject(ev.tag), payload: new TextEncoder().encode(JSON.stringify(ev.data)), seq });
    assert.equal(service.engine.counters.duplicates, before + 1);
    await waitFor(() => jobs.filter((j) => j.job.causationId === ev.id).length >= 1, { what: "job" });
    assert.equal(jobs.filter((j) => j.job.causationId === ev.id).length, 1);
  });

  it("stops a reaction loop at the depth limit with an error event", async () => {
    const ev = createEvent({ tag: "myco/loop", data: {} });
    await pub.publish(ev);
    const err = await waitFor(() => audit.find((e) => e.tag.endsWith("/error") && String(e.data["reason"]).includes("deeper than limits.max_depth 3")), {
      what: "depth error",
    });
    assert.equal(err.data["tag"], "myco/loop");
  });

  it("acts on no unsigned, foreign-signed or tampered event, and reports each", async () => {
    const unsigned = createEvent({ tag: "myco/echo/3", data: { hosts: ["web1"], text: "unsigned" } });
    await unsignedPub.publish(unsigned);
    const stranger = signerFromSeed("SUAIMC5J5UJ4NDDQEUCVW7EOIOR3RG7YVUF6C4OS2SDCNH4RSQSQTM7TCU");
    const foreign = signEvent(createEvent({ tag: "myco/echo/4", data: { hosts: ["web1"], text: "foreign" } }), stranger);
    await unsignedPub.publish(foreign);
    const key = await loadServiceKey(join(dir, "service.nk"));
    const tampered = signEvent(createEvent({ tag: "myco/echo/5", data: { hosts: ["web1"], text: "original" } }), key);
    await unsignedPub.publish({ ...tampered, data: { ...tampered.data, text: "changed" } });
    // A tampered event no longer verifies against the trusted keys, so it is judged as its claimed
    // source's: "cli" has no accepted key (keys.test.ts covers tampering of an accepted agent's event).
    for (const [ev, kind] of [[unsigned, "unsigned"], [foreign, "unknown-key"], [tampered, "unknown-key"]] as const) {
      const rej = await waitFor(() => audit.find((a) => a.tag === "reactor/security/rejected" && a.data["event_id"] === ev.id), { what: `rejection of ${kind}` });
      assert.equal(rej.data["kind"], kind, JSON.stringify(rej.data));
      assert.equal(auditFor(ev.id, "dispatched").length, 0);
    }
    assert.equal(jobs.filter((j) => ["unsigned", "foreign", "changed"].includes(String(j.job.arg[0]))).length, 0);
  });

  it("explains why an event fired, why another did not, and why a third was refused", async () => {
    const { explainEvent, formatExplanation, openClient } = await import("../../src/apps/index.js");
    const { loadServiceConfig } = await import("../../src/config/index.js");
    const config = await loadServiceConfig(join(dir, "reactor.yaml"));
    const fired = createEvent({ tag: "myco/echo/why", data: { hosts: ["web1"], text: "why" } });
    const quiet = createEvent({ tag: "salt/beacon/web1/service/nginx", data: { id: "web1", service_name: "nginx", running: true } });
    const refused = createEvent({ tag: "myco/echo/refused", data: { hosts: ["web1"], text: "x" } });
    await pub.publish(fired);
    await pub.publish(quiet);
    await unsignedPub.publish(refused);
    await waitFor(() => auditFor(fired.id, "dispatched")[0], { what: "the dispatch" });
    await waitFor(() => audit.find((a) => a.data["event_id"] === refused.id), { what: "the rejection" });
    const client = await openClient({ servers: [nats.url], name: "explain test", ensureStream: false });
    try {
      const since = new Date(Date.now() - 3600_000);
      const x = (await explainEvent(client, config, fired.id, since))!;
      assert.deepEqual(x.replay.matches.map((m) => m.glob), ["myco/echo/*"]);
      assert.deepEqual(Object.values(x.ledger).map((l) => l.state), ["dispatched"]);
      assert.ok(x.audit.some((a) => a.tag.endsWith("/dispatched")));
      assert.match(formatExplanation(x), /dispatched echo_1 \(local\.test\.echo\) jid \S+: ok, targets \["web1"\]/);
      const q = (await explainEvent(client, config, quiet.id, since))!;
      assert.deepEqual(q.replay.matches, []);
      const why = q.replay.explain!.not_matched.find((n) => n.name === "restart failed services")!;
      assert.equal(why.reason, "when");
      assert.match(formatExplanation(q), /restart failed services: condition false/);
      const r = (await explainEvent(client, config, refused.id, since))!;
      assert.equal(r.rejected?.kind, "unsigned");
      assert.match(formatExplanation(r), /REFUSED by the verifier \(unsigned\)/);
      assert.equal(await explainEvent(client, config, "no-such-id", since), undefined);
    } finally {
      await client.close();
    }
  });

  it("renders the mine into a reaction: an haproxy-style backend list of the web hosts", async () => {
    const mine = await openKv(conn, { bucket: "mine" });
    const stamp = new Date().toISOString();
    await mine.put(kvKey("web1", "network.ip_addrs"), { id: "web1", fun: "network.ip_addrs", value: ["10.0.0.1"], stamp, interval_s: 3600 });
    await mine.put(kvKey("web2.example.com", "network.ip_addrs"), { id: "web2.example.com", fun: "network.ip_addrs", value: ["10.0.0.2"], stamp, interval_s: 3600 });
    await mine.put(kvKey("db1", "network.ip_addrs"), { id: "db1", fun: "network.ip_addrs", value: ["10.0.0.9"], stamp, interval_s: 3600 });
    const job = await waitFor(async () => {
      const ev = createEvent({ tag: "myco/backends", data: {} });
      await pub.publish(ev);
      const d = await waitFor(() => auditFor(ev.id, "dispatched")[0], { what: "dispatch" });
      const j = await waitFor(() => jobs.find((x) => x.job.jid === d.data["jid"]), { what: "job" });
      // the service's mine copy follows the bucket: retry until both web hosts are in it
      return Object.keys(j.job.arg[0] as object).length === 2 ? j : undefined;
    }, { what: "a backend list with both web hosts", timeoutMs: 15_000, intervalMs: 100 });
    assert.deepEqual(job.job.arg[0], { web1: ["10.0.0.1"], "web2.example.com": ["10.0.0.2"] });
  });

  it("survives bad input on the bus: each message is skipped or refused, and the next event still reacts", async () => {
    const { headers } = await import("@nats-io/transport-node");
    const raw = async (subject: string, payload: string | Uint8Array, hdrs: Record<string, string>) => {
      const h = headers();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
      await conn.js.publish(subject, payload, { headers: h, msgID: `bad-${Math.random()}` });
    };
    const tag = { "Reactor-Tag": "myco/echo/bad" };
    await raw("evt.myco.echo.bad", "{not json", tag);
    await raw("evt.myco.echo.bad", "[1, 2]", tag);
    await raw("evt.myco.echo.bad", "{}", {});
    await raw("evt.myco.echo.bad", new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), tag);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let k = 0; k < 200; k++) deep = deep["x"] = {};
    await raw("evt.myco.echo.bad", JSON.stringify(root), tag);
    // a valid, signed event with 10,000 keys and hostile key names is just data
    const wide: Record<string, unknown> = { hosts: ["web1"], text: "wide", __proto__x: 1, constructor: "c" };
    for (let k = 0; k < 10_000; k++) wide[`k${k}`] = k;
    const big = createEvent({ tag: "myco/echo/wide", data: wide });
    await pub.publish(big);
    const after = createEvent({ tag: "myco/echo/after", data: { hosts: ["web1"], text: "after" } });
    await pub.publish(after);
    await waitFor(() => auditFor(after.id, "dispatched")[0], { what: "a reaction after the bad input" });
    await waitFor(() => auditFor(big.id, "dispatched")[0], { what: "the wide event's reaction" });
    assert.equal(({} as Record<string, unknown>)["x"], undefined);
    assert.equal(jobs.filter((j) => j.job.arg[0] === "wide").length, 1);
  });

  it("reloads a changed map, and refuses a broken one keeping the old", async () => {
    const file = join(dir, "reactor.yaml");
    const { readFile } = await import("node:fs/promises");
    const original = await readFile(file, "utf8");
    await writeFile(file, original + "  - 'myco/new': reactors/echo.sls\n");
    await service.reload();
    assert.equal(service.engine.config.reactor.length, 6);
    await writeFile(file, original + "  - tag: 'x'\n    throttle: { max: -1 }\n");
    await assert.rejects(service.reload(), ConfigErrors);
    assert.equal(service.engine.config.reactor.length, 6);
    await writeFile(file, original);
  });

  it("refuses to start on an invalid map and says where", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "reactor:\n  - tag: 'x'\n    sls: reactors/missing.sls\n");
    await assert.rejects(startService({ configPath: bad, nats: nats.url }), (err: Error) => {
      assert.match(err.message, /bad\.yaml:3: reactor\[0\]\.sls/);
      return true;
    });
  });
});
