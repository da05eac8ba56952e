import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

describe("reactor up", () => {
  it("starts nats-server and the service, prints the URL, and stops everything on SIGINT", async () => {
    const up = startCli(["up", "--no-agent"], { REACTOR_LOG_LEVEL: "warn" });
    try {
      const url = await waitFor(() => /NATS: +(nats:\/\/127\.0\.0\.1:\d+)/.exec(up.out())?.[1], { what: `the banner (stderr: ${up.err()})`, timeoutMs: 30_000 });
      assert.match(up.out(), /reactor event watch/);
      const sent = await runCli(["event", "send", "salt/auth", '{"id": "web9", "act": "pend", "result": true, "pub": "x"}', "--json"], { NATS_URL: url });
      assert.equal(sent.code, 0, sent.stderr);
      up.child.kill("SIGINT");
      const code = await new Promise<number | null>((r) => up.child.once("exit", (c) => r(c)));
      assert.equal(code, 0, up.err());
      const after = await runCli(["event", "send", "x", "{}"], { NATS_URL: url });
      assert.notEqual(after.code, 0, "the nats-server of the stack is gone");
    } finally {
      if (up.child.exitCode === null) up.child.kill("SIGKILL");
    }
  });

  it("says how to install nats-server when it is missing", async () => {
    const r = await runCli(["up", "--no-agent"], { NATS_SERVER_BIN: "/nonexistent/nats-server" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nats-server not found on PATH\. Install it: `sudo apt-get install nats-server`/);
  });
});
