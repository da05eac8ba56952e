import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromPublic } from "@nats-io/nkeys";
import { loadOrCreateIdentity } from "../../src/agent/index.js";
import { ExecutionError } from "../../src/core/index.js";

void describe("agent identity", () => {
  void it("creates a user nkey seed with mode 0600 and reuses it", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "agent-id-")), "state");
    const a = await loadOrCreateIdentity(dir);
    assert.match(a.publicKey, /^U[A-Z2-7]{55}$/);
    assert.equal(a.seedFile, join(dir, "agent.nk"));
    assert.equal((await stat(a.seedFile)).mode & 0o777, 0o600);
    assert.match(await readFile(a.seedFile, "utf8"), /^SU[A-Z2-7]{56}\n$/);
    const b = await loadOrCreateIdentity(dir);
    assert.equal(b.publicKey, a.publicKey);
  });

  void it("signs so that the public key verifies, and nothing else does", async () => {
    const id = await loadOrCreateIdentity(await mkdtemp(join(tmpdir(), "agent-id-")));
    const data = new TextEncoder().encode("salt/beacon/web1/service/nginx");
    const sig = id.sign(data);
    assert.equal(fromPublic(id.publicKey).verify(data, sig), true);
    assert.equal(id.verify(data, sig), true);
    assert.equal(id.verify(new TextEncoder().encode("other"), sig), false);
  });

  void it("tightens a seed file readable by others", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-id-"));
    const a = await loadOrCreateIdentity(dir);
    await chmod(a.seedFile, 0o644);
    await loadOrCreateIdentity(dir);
    assert.equal((await stat(a.seedFile)).mode & 0o777, 0o600);
  });

  void it("a corrupt seed is an error naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-id-"));
    await writeFile(join(dir, "agent.nk"), "garbage\n", { mode: 0o600 });
    await assert.rejects(loadOrCreateIdentity(dir), (err: unknown) => {
      assert.ok(err instanceof ExecutionError);
      assert.match(err.message, new RegExp(`^agent identity ${join(dir, "agent.nk")}: `));
      return true;
    });
  });
});
