import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openConnection } from "../../src/bus/index.js";
import { startNatsServer } from "../helpers/nats-server.js";

/** A CA and a server certificate for 127.0.0.1, made with openssl. */
async function certificates(): Promise<{ dir: string; ca: string; cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), "nr-tls-"));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca", "-keyout", f("ca.key"), "-out", f("ca.pem"));
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr"));
  execFileSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > ${f("ext.cnf")}`]);
  ssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", f("ext.cnf"), "-out", f("server.pem"));
  return { dir, ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}

describe("nats.tls", () => {
  it("connects to a TLS-only server with the configured CA, and not without it", async () => {
    const c = await certificates();
    const server = await startNatsServer({ config: `tls { cert_file: "${c.cert}", key_file: "${c.key}" }` });
    try {
      const conn = await openConnection({ servers: [server.url], tls: { ca: c.ca }, timeoutMs: 5000, jetStreamWaitMs: 5000 });
      assert.match(conn.serverVersion, /^2\./);
      await conn.close();
      await assert.rejects(openConnection({ servers: [server.url], timeoutMs: 3000, jetStreamWaitMs: 3000 }), /cannot connect to NATS/);
    } finally {
      await server.stop();
    }
  });
});
