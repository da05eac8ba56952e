import { strict as assert } from "node:assert";
import { connect } from "net";
import { after, before, describe, it } from "node:test";
import { startCluster, startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { dockerUnavailableReason, startNatsContainer } from "../helpers/nats-container.js";
import { openConnection } from "../../src/bus/index.js";

function tcpReachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

describe("test harness: nats-server", () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await server.stop();
  });

  it("listens on a random loopback port", async () => {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.port, 4222);
    assert.equal(await tcpReachable(server.port), true);
  });

  it("restarts on the same port after a kill", async () => {
    const port = server.port;
    await server.kill();
    assert.equal(await tcpReachable(port), false);
    await server.restart();
    assert.equal(server.port, port);
    assert.equal(await tcpReachable(port), true);
  });

  it("fails fast with the server's output on a bad config", async () => {
    await assert.rejects(startNatsServer({ config: "this is not { valid" }), /nats-server exited during start/);
  });

  it("says how to install nats-server when the binary is missing", async () => {
    await assert.rejects(startNatsServer({ bin: "/nonexistent/nats-server" }), /nats-server not found on PATH.*apt-get install nats-server/);
  });
});

describe("test harness: 3-node cluster", () => {
  it("starts three servers that form a cluster", async () => {
    const cluster = await startCluster();
    try {
      assert.equal(cluster.urls.length, 3);
      for (const s of cluster.servers) assert.equal(await tcpReachable(s.port), true);
    } finally {
      await cluster.stop();
    }
  });
});

describe("test harness: nats-server in a container (testcontainers)", () => {
  // Skipped, with the reason printed, where no Docker engine runs (this machine and CI have only the
  // docker client); the nats-server binary above is what CI uses.
  const reason = dockerUnavailableReason();
  it("runs a JetStream server the bus can use", { skip: reason ?? false }, async () => {
    const nats = await startNatsContainer();
    try {
      const conn = await openConnection({ servers: [nats.url] });
      assert.ok(conn.serverVersion.startsWith("2."));
      await conn.close();
    } finally {
      await nats.stop();
    }
  });
});
