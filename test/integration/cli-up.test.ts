import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { request } from "../fixtures/haproxy/haproxy.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { logLines, repeatedKeys } from "../helpers/log-lines.js";

/** Whether a process with this pid still exists (kill(pid, 0) throws ESRCH once it is gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

describe("reactor up", () => {
  it("starts nats-server and the service, prints the URL, and stops everything on SIGINT", async () => {
    const up = startCli(["up", "--no-agent"], { REACTOR_LOG_LEVEL: "warn" });
    try {
      const url = await waitFor(() => /NATS: +(nats:\/\/127\.0\.0\.1:\d+)/.exec(up.out())?.[1], { what: `the banner (stderr: ${up.err()})`, timeoutMs: 30_000 });
      assert.match(up.out(), /reactor event watch/);
      // the stack's NATS admits only known users: the CLI connects as the service key (NATS_NKEY, printed by the banner)
      const key = /NATS_NKEY=(\S+)/.exec(up.out())![1]!;
      const sent = await runCli(["event", "send", "salt/auth", '{"id": "web9", "act": "pend", "result": true, "pub": "x"}', "--json"], { NATS_URL: url, NATS_NKEY: key });
      assert.equal(sent.code, 0, sent.stderr);
      up.child.kill("SIGINT");
      const code = await new Promise<number | null>((r) => up.child.once("exit", (c) => r(c)));
      assert.equal(code, 0, up.err());
      const after = await runCli(["event", "send", "x", "{}"], { NATS_URL: url, NATS_NKEY: key });
      assert.notEqual(after.code, 0, "the nats-server of the stack is gone");
    } finally {
      if (up.child.exitCode === null) up.child.kill("SIGKILL");
    }
  });

  it("--demo release: haproxy balances web1..3 that joined by themselves; SIGINT stops haproxy, the apps and nats-server", async (t) => {
    const state = await mkdtemp(join(tmpdir(), "nr-up-release-"));
    const up = startCli(["up", "--demo", "release", "--state-dir", state], { REACTOR_LOG_LEVEL: "warn" });
    try {
      const t0 = Date.now();
      // Two key handshakes (lb1, then the web hosts) wait ~10 s each for the agents' retry.
      await waitFor(() => up.out().includes("Ctrl-C stops everything"), { what: () => `the banner (stderr: ${up.err().slice(-3000)})`, timeoutMs: 150_000, intervalMs: 200 });
      t.diagnostic(`banner after ${Date.now() - t0} ms`);
      const out = up.out();
      const haproxyPort = Number(/haproxy: +http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1]);
      const natsPort = Number(/NATS: +nats:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      assert.ok(haproxyPort > 0 && natsPort > 0, out);
      assert.doesNotMatch(out, /not in rotation yet/);
      assert.match(out, new RegExp(`while sleep 0\\.2; do curl -s http://127\\.0\\.0\\.1:${haproxyPort}/; done`));
      assert.match(out, /reactor event send salt\/netapi\/hook\/release '\{"post": \{"version": "2\.0\.0"\}\}'/);
      assert.match(out, /reactor key delete web3 --yes/);

      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) seen.add((await request(haproxyPort)).trim());
      assert.deepEqual([...seen].sort(), ["web1 1.0.0", "web2 1.0.0", "web3 1.0.0"]);

      const haproxyPid = Number(await readFile(join(state, "haproxy.pid"), "utf8"));
      const apps = await Promise.all(["web1", "web2", "web3"].map(async (id) => Number(await readFile(join(state, id, "app.pid"), "utf8"))));
      assert.ok([haproxyPid, ...apps].every(alive));
      up.child.kill("SIGINT");
      const code = await new Promise<number | null>((r) => (up.child.exitCode !== null ? r(up.child.exitCode) : up.child.once("exit", (c) => r(c))));
      assert.equal(code, 0, up.err().slice(-3000));
      await waitFor(() => ![haproxyPid, ...apps].some(alive), { what: "haproxy and the apps to exit" });
      assert.equal(await listening(natsPort), false, "the stack's nats-server is gone");
      assert.equal(await listening(haproxyPort), false, "haproxy's frontend is gone");
      assert.ok(!existsSync(join(state, "haproxy.pid")));
    } finally {
      // A failed test still stops the stack the normal way (the apps run detached), SIGKILL as a last resort.
      if (up.child.exitCode === null) {
        up.child.kill("SIGINT");
        await waitFor(() => up.child.exitCode !== null || up.child.signalCode !== null, { timeoutMs: 30_000 }).catch(() => up.child.kill("SIGKILL"));
      }
      await rm(state, { recursive: true, force: true });
    }
  });

  it("says how to install nats-server when it is missing", async () => {
    const r = await runCli(["up", "--no-agent"], { NATS_SERVER_BIN: "/nonexistent/nats-server" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nats-server not found on PATH\. Install it: `sudo apt-get install nats-server`/);
  });
});

describe("reactor up logs", () => {
  it("off a terminal: JSON lines, each key once (nested components as service/keys)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-up-logs-"));
    await writeFile(join(dir, "beacons.yaml"), "beacons: {}\n");
    // a demo* id: autosigned by the example map, so the handshake completes at once
    await writeFile(join(dir, "agent.yaml"), "id: demo-logs1\nbeacons_file: beacons.yaml\n");
    const up = startCli(["up", "--agent-config", join(dir, "agent.yaml")], { REACTOR_LOG_LEVEL: "info" });
    try {
      await waitFor(() => up.out().includes("nats-reactor is up"), { what: () => `the banner (stderr: ${up.err().slice(-3000)})`, timeoutMs: 60_000 });
      await waitFor(() => up.err().includes('"msg":"key accepted"'), { what: () => `the agent's handshake (stderr: ${up.err().slice(-3000)})`, timeoutMs: 30_000 });
      up.child.kill("SIGINT");
      await new Promise((r) => up.child.once("exit", r));
      const lines = logLines(up.err());
      assert.ok(lines.length >= 6, up.err());
      for (const l of lines) assert.deepEqual(repeatedKeys(l), [], l);
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const auth = parsed.find((p) => p["msg"] === "auth attempt");
      assert.equal(auth?.["component"], "service/keys");
      const started = parsed.find((p) => p["msg"] === "nats-server started with the generated auth");
      assert.equal(started?.["pid"], up.child.pid);
      assert.equal(typeof started?.["server_pid"], "number");
    } finally {
      if (up.child.exitCode === null) up.child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
