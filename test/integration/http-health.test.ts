import { strict as assert } from "node:assert";
import { request } from "node:http";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { hostname } from "node:os";
import { after, before, describe, it } from "node:test";
import { createLogger, startService, type ServiceHandle } from "../../src/apps/index.js";
import { kvKey, openConnection, openKv, type Connection } from "../../src/bus/index.js";
import { runStatus, type StatusReport } from "../../src/cli/commands/status.js";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { fixtureDir } from "../helpers/stack.js";


function get(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on("error", reject)
      .end();
  });
}

describe("health and reactor status against a real nats-server", () => {
  let server: NatsServer;
  let service: ServiceHandle;
  let conn: Connection;

  before(async () => {
    server = await startNatsServer();
    const dir = await fixtureDir("service");
    // the service serves /metrics and /healthz, and answers `reactor status`, by itself
    await appendFile(join(dir, "reactor.yaml"), 'metrics: { listen: "127.0.0.1:0" }\n');
    service = await startService({
      configPath: join(dir, "reactor.yaml"),
      nats: server.url,
      log: createLogger({ level: "silent" }),
    });
    conn = await openConnection({ servers: [server.url] });
    const minions = await openKv(conn, { bucket: "minions" });
    await minions.put(kvKey("web1"), { id: "web1", grains: {}, last_seen: "2024-05-01T10:00:00.000Z" });
    await minions.put(kvKey("db1"), {
      id: "db1",
      grains: {},
      last_seen: "2024-05-01T11:00:00.000Z",
      key_state: "rejected",
    });
    const keys = await openKv(conn, { bucket: "keys", history: 5 });
    await keys.put(kvKey("accepted", "web1"), { id: "web1", pub: "U1", state: "accepted" });
    await keys.put(kvKey("pending", "new.example.com"), {
      id: "new.example.com",
      pub: "U2",
      state: "pending",
    });
  });
  after(async () => {
    await conn.close();
    await service.stop();
    await server.stop();
  });

  it("reactor status --json reports replicas, the consumer, the stream and the agents", async () => {
    const lines: string[] = [];
    const code = await runStatus(
      { json: true, nats: server.url, stream: "EVENTS", durable: "reactor", wait: "500" },
      (s) => lines.push(s),
    );
    assert.equal(code, 0);
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0]!) as StatusReport;
    assert.deepEqual(Object.keys(r), ["nats", "stream", "consumer", "replicas", "agents"]);
    assert.deepEqual(r.nats.servers, [server.url]);
    assert.match(r.nats.server_version, /^\d+\.\d+\.\d+/);
    assert.equal(r.stream?.name, "EVENTS");
    assert.equal(typeof r.stream?.messages, "number");
    assert.deepEqual(Object.keys(r.consumer ?? {}), [
      "durable",
      "pending",
      "ack_pending",
      "lag",
      "redelivered",
      "waiting",
    ]);
    assert.equal(r.consumer?.durable, "reactor");
    assert.equal(r.replicas.length, 1);
    assert.equal(r.replicas[0]!.instance, `${hostname()}:${process.pid}`);
    assert.match(r.replicas[0]!.started, /^\d{4}-\d\d-\d\dT/);
    assert.equal(r.replicas[0]!.metrics, service.web.metricsServer!.url);
    assert.equal(typeof r.replicas[0]!.counters["received"], "number");
    assert.deepEqual(r.agents, [
      { id: "db1", key_state: "rejected", last_seen: "2024-05-01T11:00:00.000Z" },
      { id: "new.example.com", key_state: "pending", last_seen: null },
      { id: "web1", key_state: "accepted", last_seen: "2024-05-01T10:00:00.000Z" },
    ]);
  });

  it("/healthz answers 200 while NATS is up, 503 once the server is stopped, 200 after it is back", async () => {
    const url = `${service.web.metricsServer!.url}/healthz`;
    const up = await get(url);
    assert.equal(up.status, 200);
    const body = up.body as Record<string, unknown>;
    assert.equal(body["status"], "ok");
    assert.equal(body["nats"], "connected");
    assert.deepEqual(Object.keys(body["consumer"] as object), ["pending", "ack_pending"]);

    await server.kill();
    const down = await waitFor(
      async () => {
        const a = await get(url);
        return a.status === 503 ? a : undefined;
      },
      { what: "a 503 from /healthz" },
    );
    assert.deepEqual(down.body, { status: "unavailable", nats: "disconnected", consumer: "unknown" });

    await server.restart();
    const back = await waitFor(
      async () => {
        const a = await get(url);
        return a.status === 200 ? a : undefined;
      },
      { what: "a 200 from /healthz after the restart", timeoutMs: 20_000 },
    );
    assert.equal((back.body as Record<string, unknown>)["nats"], "connected");
  });
  it("reactor status prints tables, and exits 3 when no replica answers", async () => {
    const lines: string[] = [];
    assert.equal(
      await runStatus({ nats: server.url, stream: "EVENTS", durable: "reactor", wait: "500" }, (s) =>
        lines.push(s),
      ),
      0,
    );
    assert.ok(lines.includes("service replicas: 1"));
    assert.ok(lines.includes("agents: 3"));
    assert.ok(lines.includes("ID               KEY       LAST SEEN"));
    assert.ok(lines.includes("new.example.com  pending   -"));
    const none: string[] = [];
    assert.equal(
      await runStatus(
        { json: true, nats: server.url, stream: "EVENTS", durable: "nobody", wait: "200" },
        (s) => none.push(s),
      ),
      0,
    );
    assert.equal((JSON.parse(none[0]!) as StatusReport).consumer, null);
    await service.stop();
    const alone: string[] = [];
    assert.equal(
      await runStatus(
        { json: true, nats: server.url, stream: "EVENTS", durable: "reactor", wait: "200" },
        (s) => alone.push(s),
      ),
      3,
    );
    assert.deepEqual((JSON.parse(alone[0]!) as StatusReport).replicas, []);
  });
});
