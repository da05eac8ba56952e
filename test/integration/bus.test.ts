import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { connect, headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import {
  consumeDurable,
  createEventPublisher,
  defaultStreamSettings,
  ensureDurable,
  ensureEventStream,
  openConnection,
  openKv,
  watchEvents,
  type Connection,
  type EventStreamSettings,
  type InvalidMessage,
} from "../../src/bus/index.js";
import { natsForTests, startCluster, uniqueName } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

describe("bus against a real nats-server", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;
  let settings: EventStreamSettings;

  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url] });
    settings = { ...defaultStreamSettings(), name: uniqueName("EV"), storage: "memory", maxBytes: 64 * 1024 * 1024, maxEventBytes: 64 * 1024 };
    await ensureEventStream(conn, settings);
  });
  after(async () => {
    await conn.close();
    await nats.stop();
  });

  it("creates the stream with explicit settings and updates it in place", async () => {
    const info = await conn.jsm.streams.info(settings.name);
    assert.deepEqual(info.config.subjects, ["evt.>"]);
    assert.equal(info.config.duplicate_window, 120_000 * 1e6);
    await ensureEventStream(conn, { ...settings, maxAgeMs: 3600_000 });
    assert.equal((await conn.jsm.streams.info(settings.name)).config.max_age, 3600_000 * 1e6);
    await ensureEventStream(conn, settings);
  });

  it("publishes, de-duplicates a retried event id, and a durable consumer resumes where it stopped", async () => {
    const pub = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes });
    const durable = uniqueName("d");
    const tag = "salt/beacon/web01.example.com/inotify//etc/nginx/nginx.conf";
    await ensureDurable(conn, settings.name, { durable, filter: "evt.salt.beacon.>", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 100 });
    const events = Array.from({ length: 5 }, (_, i) => createEvent({ tag, data: { n: i, s: "ünïcode: {{ x }}" }, source: "web01.example.com" }));
    for (const e of events) assert.equal((await pub.publish(e)).duplicate, false);
    assert.equal((await pub.publish(events[0]!)).duplicate, true);

    const got: ReactorEvent[] = [];
    const bad: InvalidMessage[] = [];
    let stream = await consumeDurable(conn, settings.name, durable, { maxEventBytes: settings.maxEventBytes, onInvalid: (b) => bad.push(b) });
    for await (const d of stream) {
      got.push(d.event);
      await d.ackSync();
      if (got.length === 3) break;
    }
    await stream.stop();
    stream = await consumeDurable(conn, settings.name, durable, { maxEventBytes: settings.maxEventBytes, onInvalid: (b) => bad.push(b) });
    for await (const d of stream) {
      got.push(d.event);
      await d.ackSync();
      if (got.length === 5) break;
    }
    await stream.stop();
    assert.deepEqual(got, events);
    assert.deepEqual(bad, []);
  });

  it("reports and skips messages that are not events, and keeps delivering", async () => {
    const raw = await connect({ servers: nats.url });
    const pub = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes });
    const bad: InvalidMessage[] = [];
    const got: string[] = [];
    const watch = await watchEvents(conn, settings.name, { filter: "evt.bad.>", start: { kind: "new" }, maxEventBytes: settings.maxEventBytes, onInvalid: (b) => bad.push(b) });
    const loop = (async () => {
      for await (const d of watch) got.push(d.event.tag);
    })();
    const h = headers();
    h.set("Reactor-Tag", "bad/json");
    h.set("Nats-Msg-Id", "x1");
    await jetstream(raw).publish("evt.bad.json", "{not json", { headers: h });
    await jetstream(raw).publish("evt.bad.notag", "{}");
    const big = headers();
    big.set("Reactor-Tag", "bad/big");
    big.set("Nats-Msg-Id", "x2");
    await jetstream(raw).publish("evt.bad.big", JSON.stringify({ s: "x".repeat(settings.maxEventBytes) }), { headers: big });
    await pub.publish(createEvent({ tag: "bad/ok" }));
    await waitFor(() => got.length === 1 && bad.length === 3, { what: "3 invalid + 1 valid" });
    await watch.stop();
    await loop;
    await raw.close();
    assert.deepEqual(got, ["bad/ok"]);
    assert.deepEqual(
      bad.map((b) => [b.subject, b.reason.replace(/\(.*\)/, "(...)")]),
      [
        ["evt.bad.json", "invalid event: payload is not valid JSON (...)"],
        ["evt.bad.notag", "invalid event: no Reactor-Tag header"],
        ["evt.bad.big", `event of ${settings.maxEventBytes + 8} bytes is over the limit of ${settings.maxEventBytes} bytes`],
      ],
    );
  });

  it("stores JSON in KV with create-if-absent and compare-and-set", async () => {
    const kv = await openKv<{ n: number }>(conn, { bucket: uniqueName("kv"), storage: "memory" });
    const rev = await kv.create("a", { n: 1 });
    assert.ok(rev);
    assert.equal(await kv.create("a", { n: 2 }), undefined);
    assert.equal(await kv.update("a", { n: 3 }, rev + 100), undefined);
    assert.ok(await kv.update("a", { n: 4 }, rev));
    assert.deepEqual((await kv.get("a"))?.value, { n: 4 });
    await kv.delete("a");
    assert.equal(await kv.get("a"), undefined);
  });
});

describe("bus on a 3-node JetStream cluster", () => {
  it("creates an R3 stream and keeps acknowledged events when a node is killed", async () => {
    const cluster = await startCluster();
    const conn = await openConnection({ servers: cluster.urls });
    try {
      const settings = { ...defaultStreamSettings(), name: "EVENTS", replicas: 3 };
      await waitFor(async () => (await ensureEventStream(conn, settings).then(() => true).catch(() => false)), { timeoutMs: 30_000, what: "R3 stream" });
      assert.equal((await conn.jsm.streams.info("EVENTS")).config.num_replicas, 3);
      const pub = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes });
      for (let i = 0; i < 50; i++) await pub.publish(createEvent({ tag: `c/${i}` }));
      await cluster.servers[2]!.kill();
      for (let i = 50; i < 100; i++) await pub.publish(createEvent({ tag: `c/${i}` }));
      const info = await waitFor(async () => {
        const i = await conn.jsm.streams.info("EVENTS");
        return i.state.messages === 100 ? i : undefined;
      }, { timeoutMs: 30_000, what: "100 messages" });
      assert.equal(info.state.messages, 100);
    } finally {
      await conn.close();
      await cluster.stop();
    }
  });
});
