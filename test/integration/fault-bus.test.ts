/**
 * Fault tests of the bus: nats-server restarted while an agent's sink publishes (events are
 * buffered and resent, none lost, none twice), an offline buffer that overflows (oldest dropped,
 * count reported), and a 3-node JetStream cluster losing a node while the service works.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger, openBufferedSink, startService } from "../../src/apps/index.js";
import { createEventPublisher, defaultStreamSettings, ensureEventStream, openConnection, watchEvents, type Connection } from "../../src/bus/index.js";
import { signEvent } from "../../src/core/auth/index.js";
import { createEvent, silentLogger, type ReactorEvent } from "../../src/core/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { startCluster, startNatsServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { registerMinion } from "../helpers/minions.js";

async function storedEvents(conn: Connection, filter: string): Promise<ReactorEvent[]> {
  const out: ReactorEvent[] = [];
  const w = await watchEvents(conn, "EVENTS", { filter, start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
  const info = await conn.jsm.streams.info("EVENTS", { subjects_filter: filter });
  const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (total > 0) {
    for await (const d of w) {
      out.push(d.event);
      if (out.length >= total) break;
    }
  }
  await w.stop();
  return out;
}

describe("fault tests: the bus", () => {
  it("an agent's events survive a nats-server restart: buffered, resent in order, none twice", async () => {
    const server = await startNatsServer();
    const stateDir = await mkdtemp(join(tmpdir(), "nr-sink-"));
    const conn = await openConnection({ servers: [server.url], waitOnFirstConnect: true });
    await ensureEventStream(conn, defaultStreamSettings());
    const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, retryForMs: 500, ackTimeoutMs: 500 });
    const sink = await openBufferedSink({ agentId: "web1", stateDir, publisher, maxEvents: 10_000, log: silentLogger, publishTimeoutMs: 500 });
    try {
      const sent: string[] = [];
      for (let i = 0; i < 300; i++) {
        if (i === 100) await server.kill(); // a crash, not a clean stop
        if (i === 200) await server.restart();
        const e = await sink.emit("salt/beacon/web1/fault/tick", { n: i });
        sent.push(e.id);
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(async () => {
        await sink.flush();
        return sink.pending === 0;
      }, { what: "the buffer to drain", timeoutMs: 30_000, intervalMs: 200 });
      const got = await storedEvents(conn, "evt.salt.beacon.web1.fault.>");
      assert.deepEqual(got.map((e) => e.id).sort(), [...sent].sort());
      assert.equal(new Set(got.map((e) => e.id)).size, got.length, "no event stored twice");
      const ns = got.map((e) => e.data["n"] as number);
      assert.deepEqual(ns, [...ns].sort((a, b) => a - b), "resent in order");
      const stamps = got.map((e) => e.stamp);
      assert.deepEqual(stamps, [...stamps].sort(), "events keep the time they were observed");
    } finally {
      await sink.stop();
      await conn.close();
      await server.stop();
    }
  });

  it("a full offline buffer drops the oldest events and reports how many", async () => {
    const server = await startNatsServer();
    const stateDir = await mkdtemp(join(tmpdir(), "nr-sink-"));
    const conn = await openConnection({ servers: [server.url], waitOnFirstConnect: true });
    await ensureEventStream(conn, defaultStreamSettings());
    const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, retryForMs: 200, ackTimeoutMs: 300 });
    let sink = await openBufferedSink({ agentId: "web1", stateDir, publisher, maxEvents: 50, log: silentLogger, publishTimeoutMs: 300 });
    try {
      await server.kill();
      for (let i = 0; i < 80; i++) await sink.emit("salt/beacon/web1/fault/full", { n: i });
      assert.equal(sink.pending, 50);
      assert.equal(sink.dropped, 30);
      // the agent restarts while the bus is still down: the buffer on disk is kept
      await sink.stop();
      sink = await openBufferedSink({ agentId: "web1", stateDir, publisher, maxEvents: 50, log: silentLogger, publishTimeoutMs: 300 });
      assert.equal(sink.pending, 50);
      await server.restart();
      await waitFor(async () => {
        await sink.flush();
        return sink.pending === 0;
      }, { what: "the buffer to drain", timeoutMs: 30_000, intervalMs: 200 });
      const got = await storedEvents(conn, "evt.salt.beacon.web1.fault.>");
      assert.deepEqual(got.map((e) => e.data["n"]), Array.from({ length: 50 }, (_, i) => i + 30));
    } finally {
      await sink.stop();
      await conn.close();
      await server.stop();
    }
  });

  it("the reporter of drops: a dropped count event follows the drained buffer", async () => {
    const server = await startNatsServer();
    const stateDir = await mkdtemp(join(tmpdir(), "nr-sink-"));
    const conn = await openConnection({ servers: [server.url], waitOnFirstConnect: true });
    await ensureEventStream(conn, defaultStreamSettings());
    const publisher = createEventPublisher(conn, { maxEventBytes: 1 << 20, retryForMs: 200, ackTimeoutMs: 300 });
    const sink = await openBufferedSink({ agentId: "web1", stateDir, publisher, maxEvents: 5, log: silentLogger, publishTimeoutMs: 300 });
    try {
      await server.kill();
      for (let i = 0; i < 12; i++) await sink.emit("salt/beacon/web1/fault/report", { n: i });
      await server.restart();
      await waitFor(async () => {
        await sink.flush();
        return sink.pending === 0;
      }, { what: "the buffer to drain", timeoutMs: 30_000, intervalMs: 200 });
      const report = await waitFor(async () => (await storedEvents(conn, "evt.salt.minion.web1.buffer.dropped"))[0], { what: "the dropped report" });
      assert.equal(report.data["dropped"], 7);
    } finally {
      await sink.stop();
      await conn.close();
      await server.stop();
    }
  });

  it("a 3-node cluster loses a node while the service works: no acknowledged event lost, every reaction once", async () => {
    const cluster = await startCluster();
    const dir = await mkdtemp(join(tmpdir(), "nr-cluster-"));
    await writeFile(join(dir, "restart.sls"), "restart:\n  local.service.restart:\n    - tgt: {{ data['id'] }}\n    - args:\n      - name: {{ data['service_name'] }}\n");
    await writeFile(join(dir, "reactor.yaml"), "stream: { replicas: 3 }\nkeys: { service_key: service.nk }\nreactor:\n  - 'salt/beacon/*/service/*': restart.sls\n");
    const conn = await openConnection({ servers: cluster.urls });
    let started: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      const service = await startService({ configPath: join(dir, "reactor.yaml"), nats: cluster.urls.join(","), log: createLogger({ level: process.env.FAULT_LOG_LEVEL ?? "error" }) });
      started = service;
      await registerMinion(conn, "web1", {}, 3);
      await waitFor(() => service.minions.list().length === 1, { what: "the minion directory" });
      const key = await loadServiceKey(join(dir, "service.nk"));
      const pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, retryForMs: 60_000, sign: (e) => signEvent(e, key) });
      const N = 600;
      const acked: string[] = [];
      for (let i = 0; i < N; i++) {
        if (i === 200) await cluster.servers[1]!.kill();
        if (i === 400) await cluster.servers[1]!.restart();
        const e = createEvent({ tag: "salt/beacon/web1/service/nginx", data: { id: "web1", service_name: "nginx", n: i } });
        await pub.publish(e);
        acked.push(e.id);
      }
      await waitFor(() => service.engine.counters.dispatched >= N, { what: () => `${N} reactions (now ${JSON.stringify(service.engine.counters)}; targets of web1: ${JSON.stringify(service.minions.resolve("web1", "glob"))})`, timeoutMs: 120_000, intervalMs: 250 });
      const info = await conn.jsm.streams.info("JOBS");
      assert.equal(info.state.messages, N, "one job per event, none twice");
      const stored = await storedEvents(conn, "evt.salt.beacon.web1.service.nginx");
      assert.deepEqual(new Set(stored.map((e) => e.id)), new Set(acked), "every acknowledged event is stored");
    } finally {
      await started?.stop();
      await conn.close();
      await cluster.stop();
    }
  });
});
