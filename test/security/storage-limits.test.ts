/**
 * A NATS server whose JetStream cannot hold the EVENTS stream ("insufficient storage resources
 * available"): `reactor serve` must fail at once with a non-zero exit and a message naming the
 * settings to change, not keep running with no stream.
 */
import { strict as assert } from "node:assert";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { fixtureDir, startServe } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

describe("reactor serve on a server with too little JetStream storage", () => {
  let server: NatsServer;
  before(async () => {
    const store = await mkdtemp(join(tmpdir(), "nr-small-js-"));
    // a later jetstream block replaces the harness's: 10 MB where EVENTS reserves 1 GiB
    server = await startNatsServer({ config: `jetstream { store_dir: "${store}", max_memory_store: 10MB, max_file_store: 10MB }` });
  });
  after(async () => server?.stop());

  it("exits 2 with a message naming stream.max_bytes and max_file_store", async () => {
    const dir = await fixtureDir("security");
    const serve = startServe(dir, { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" });
    try {
      const code = await waitFor(() => serve.child.exitCode ?? undefined, { what: () => `reactor serve to exit (it is still running; stderr: ${serve.err().slice(-400)})`, timeoutMs: 30_000, intervalMs: 100 });
      assert.equal(code, 2);
      assert.match(serve.err(), /cannot create stream EVENTS: insufficient storage resources available: the stream reserves 1073741824 bytes \(stream\.max_bytes of reactor\.yaml\)/);
      assert.match(serve.err(), /raise max_file_store \/ max_memory_store in the server's jetstream block/);
    } finally {
      await serve.kill();
    }
  });
});
