/** The minion directory against a real nats-server: with onlyAccepted, an agent is a target only while its key is accepted. */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { openMinionDirectory } from "../../src/apps/index.js";
import { kvKey, openConnection, openKv, type Connection } from "../../src/bus/index.js";
import { silentLogger } from "../../src/core/index.js";
import { registerMinion } from "../helpers/minions.js";
import { natsForTests } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

describe("minion directory", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;
  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url] });
  });
  after(async () => {
    await conn.close();
    await nats.stop();
  });

  it("onlyAccepted: an agent whose key is deleted is no target, even while its record comes back", async () => {
    await registerMinion(conn, "web1", { roles: ["web"] });
    await registerMinion(conn, "web2", { roles: ["web"] });
    const strict = await openMinionDirectory(conn, { replicas: 1, log: silentLogger, onlyAccepted: true });
    const all = await openMinionDirectory(conn, { replicas: 1, log: silentLogger });
    try {
      assert.deepEqual(strict.resolve("web*", "glob"), ["web1", "web2"]);
      const keys = await openKv(conn, { bucket: "keys", history: 5, maxAgeMs: 0 });
      await keys.delete(kvKey("accepted", "web2"));
      // the agent still runs and writes its presence again
      const minions = await openKv(conn, { bucket: "minions", history: 1 });
      await minions.put(kvKey("web2"), { id: "web2", grains: { roles: ["web"] }, last_seen: new Date().toISOString() });
      await waitFor(() => strict.resolve("web*", "glob").join() === "web1", { what: "web2 no longer a target" });
      assert.deepEqual(strict.resolve("roles:web", "grain"), ["web1"]);
      assert.deepEqual(strict.list().map((m) => m.id), ["web1"]);
      assert.deepEqual(all.resolve("web*", "glob"), ["web1", "web2"], "without onlyAccepted every record counts");
      await registerMinion(conn, "web2", { roles: ["web"] }); // accepted again
      await waitFor(() => strict.resolve("web*", "glob").join() === "web1,web2", { what: "web2 a target again" });
    } finally {
      strict.stop();
      all.stop();
    }
  });
});
