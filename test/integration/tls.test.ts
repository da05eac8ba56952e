import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openConnection, watchEvents, type Connection } from "../../src/bus/index.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

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

  it("the service and an agent (nats.tls in reactor.yaml and agent.yaml) work over a TLS-only server", async () => {
    const c = await certificates();
    const server = await startNatsServer({ config: `tls { cert_file: "${c.cert}", key_file: "${c.key}" }` });
    const procs: Proc[] = [];
    let conn: Connection | undefined;
    try {
      await writeFile(join(c.dir, "reactor.yaml"), ["nats:", `  tls: { ca: ${JSON.stringify(c.ca)} }`, "keys:", "  autosign: [ 'tls*' ]", "  service_key: service.nk", "reactor: []", ""].join("\n"));
      const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
      procs.push(startServe(c.dir, env));
      procs.push(await startAgentProc(c.dir, "tls1", env, { nats: { tls: { ca: c.ca } } }));
      conn = await openConnection({ servers: [server.url], tls: { ca: c.ca }, timeoutMs: 5000, jetStreamWaitMs: 5000 });
      const started = await waitFor(
        async () => {
          const w = await watchEvents(conn!, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined }).catch(() => undefined);
          if (!w) return undefined;
          const timer = setTimeout(() => void w.stop(), 500);
          try {
            for await (const d of w) if (d.event.tag === "salt/minion/tls1/start") return d.event;
          } finally {
            clearTimeout(timer);
            await w.stop();
          }
          return undefined;
        },
        { what: () => `tls1 accepted and started (agent: ${procs[1]!.err().slice(-800)}; service: ${procs[0]!.err().slice(-800)})`, timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.equal(started.data["id"], "tls1");
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await conn?.close();
      await server.stop();
    }
  });
});
