/**
 * Bus benchmark (`npm run bench:bus`): 100k events of ~500 bytes, published with 256 acks in flight
 * and consumed with a durable pull consumer, first with the bare NATS client (baseline), then through
 * our codec and bus. Prints both rates and their ratio. One nats-server, file storage, same process.
 */
import { connect, headers } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  consumeDurable,
  createEventPublisher,
  defaultStreamSettings,
  ensureDurable,
  ensureEventStream,
  openConnection,
} from "../src/bus/index.js";
import { createEvent } from "../src/core/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const WINDOW = 256;
const payloadData = { id: "web01.example.com", service_name: "nginx", nginx: { running: false }, note: "x".repeat(380) };

async function windowed(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p = fn(i).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= WINDOW) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

async function raw(url: string): Promise<{ pub: number; sub: number }> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], max_bytes: 1024 ** 3 });
  const js = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify({ ...payloadData, _stamp: new Date().toISOString() }));
  let t = performance.now();
  await windowed(N, (i) => {
    const h = headers();
    h.set("Nats-Msg-Id", `raw-${i}`);
    return js.publish("raw.salt.beacon.web01.service.nginx", body, { headers: h });
  });
  const pub = N / ((performance.now() - t) / 1000);
  await jsm.consumers.add("RAW", { durable_name: "c", ack_policy: AckPolicy.Explicit });
  const c = await js.consumers.get("RAW", "c");
  t = performance.now();
  const msgs = await c.consume({ max_messages: 1000 });
  let n = 0;
  for await (const m of msgs) {
    JSON.parse(m.string());
    m.ack();
    if (++n === N) break;
  }
  const sub = N / ((performance.now() - t) / 1000);
  await nc.close();
  return { pub, sub };
}

async function ours(url: string): Promise<{ pub: number; sub: number }> {
  const conn = await openConnection({ servers: [url] });
  const settings = defaultStreamSettings();
  await ensureEventStream(conn, settings);
  const publisher = createEventPublisher(conn, { maxEventBytes: settings.maxEventBytes });
  let t = performance.now();
  await windowed(N, () => publisher.publish(createEvent({ tag: "salt/beacon/web01.example.com/service/nginx", data: payloadData, source: "web01.example.com" })));
  const pub = N / ((performance.now() - t) / 1000);
  await ensureDurable(conn, settings.name, { durable: "bench", filter: "evt.>", ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 10_000 });
  t = performance.now();
  const stream = await consumeDurable(conn, settings.name, "bench", { maxEventBytes: settings.maxEventBytes, batch: 1000, onInvalid: () => undefined });
  let n = 0;
  for await (const d of stream) {
    d.ack();
    if (++n === N) break;
  }
  const sub = N / ((performance.now() - t) / 1000);
  await stream.stop();
  await conn.close();
  return { pub, sub };
}

const server = await startNatsServer();
try {
  const r = await raw(server.url);
  const o = await ours(server.url);
  const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`;
  console.log(`events: ${N}, ~${JSON.stringify(payloadData).length + 40} bytes each, ${WINDOW} publish acks in flight, nats-server ${process.env.NATS_SERVER_BIN ?? "on PATH"}`);
  console.log(`publish  raw ${fmt(r.pub)}   ours ${fmt(o.pub)}   ratio ${(o.pub / r.pub).toFixed(2)}`);
  console.log(`consume  raw ${fmt(r.sub)}   ours ${fmt(o.sub)}   ratio ${(o.sub / r.sub).toFixed(2)}`);
} finally {
  await server.stop();
}
