/**
 * The default stack (`reactor up`, issue 13 item 4) runs NATS with the generated auth: a local
 * process without credentials cannot connect, so it cannot rewrite keys/accepted.<id>, read the
 * mine or answer `reactor.auth`; the bootstrap user can do nothing but the handshake. And
 * `reactor serve` refuses a NATS server that admits anonymous clients unless told so on purpose.
 */
import { after, before, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, usernamePasswordAuthenticator } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_USER } from "../../src/keys/index.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { fixtureDir } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

describe("reactor up: the default stack is authenticated", { timeout: 120_000 }, () => {
  let up: ReturnType<typeof startCli>;
  let url: string;
  let stateDir: string;

  before(async () => {
    up = startCli(["up"], { REACTOR_LOG_LEVEL: "warn", REACTOR_INSECURE_NATS: "" });
    url = await waitFor(() => /NATS: +(nats:\/\/127\.0\.0\.1:\d+)/.exec(up.out())?.[1], {
      what: () => `the banner (stderr: ${up.err().slice(-2000)})`,
      timeoutMs: 60_000,
    });
    stateDir = /state: +(\S+)/.exec(up.out())![1]!;
  });
  after(async () => {
    if (up.child.exitCode === null) {
      const exited = new Promise((r) => up.child.once("exit", r));
      up.child.kill("SIGINT");
      await exited;
    }
  });

  it("its agent joined (handshake as bootstrap, then as its own nkey user) and runs jobs", async () => {
    const key = /NATS_NKEY=(\S+)/.exec(up.out())![1]!;
    const r = await runCli(["run", "demo1", "test.ping", "--json"], {
      NATS_URL: url,
      NATS_NKEY: key,
      REACTOR_KEY_FILE: key,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { demo1: true });
  });

  it("a local client without credentials cannot connect (so no key overwrite, no mine read, no rogue reactor.auth)", async () => {
    await assert.rejects(
      connect({ servers: [url], reconnect: false, timeout: 3000 }),
      /Authorization Violation/i,
    );
    const r = await runCli(["event", "send", "myco/x", "{}"], {
      NATS_URL: url,
      NATS_NKEY: "",
      REACTOR_KEY_FILE: "",
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Authorization Violation/i);
  });

  it("the bootstrap user cannot answer reactor.auth, overwrite keys/accepted.demo1 or read the mine", async () => {
    const password = (await readFile(join(stateDir, "bootstrap.pass"), "utf8")).trim();
    const nc = await connect({
      servers: [url],
      reconnect: false,
      inboxPrefix: BOOTSTRAP_INBOX_PREFIX,
      authenticator: usernamePasswordAuthenticator(BOOTSTRAP_USER, password),
    });
    try {
      const sub = nc.subscribe("reactor.auth");
      await assert.rejects(
        (async () => {
          for await (const _ of sub) assert.fail("received a handshake");
        })(),
        /Permissions Violation for Subscription to "reactor.auth"/,
      );
      await assert.rejects(
        jetstream(nc).publish("$KV.keys.accepted.demo1", new TextEncoder().encode("{}"), { timeout: 3000 }),
        /Permissions Violation for Publish to "\$KV.keys.accepted.demo1"/,
      );
      await assert.rejects(
        nc.request("$JS.API.DIRECT.GET.KV_mine.$KV.mine.demo1.network=2Eip_addrs", new Uint8Array(), {
          timeout: 3000,
        }),
        /Permissions Violation for Publish/,
      );
    } finally {
      await nc.close();
    }
  });
});

describe("reactor serve refuses a NATS server that admits anonymous clients", { timeout: 60_000 }, () => {
  let nats: NatsServer;
  before(async () => (nats = await startNatsServer()));
  after(async () => nats?.stop());

  it("exits with a clear error, and starts with --insecure-nats", async () => {
    const dir = await fixtureDir("service");
    const refused = await runCli(["serve", "-c", join(dir, "reactor.yaml")], {
      NATS_URL: nats.url,
      REACTOR_INSECURE_NATS: "",
    });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /lets clients in without credentials.*--insecure-nats or nats\.insecure: true/,
    );
    const allowed = startCli(["serve", "-c", join(dir, "reactor.yaml"), "--insecure-nats"], {
      NATS_URL: nats.url,
      REACTOR_INSECURE_NATS: "",
      REACTOR_LOG_LEVEL: "warn",
    });
    try {
      await waitFor(() => /admits unauthenticated clients/.test(allowed.out() + allowed.err()), {
        what: () => `the warning (stderr: ${allowed.err().slice(-2000)})`,
        timeoutMs: 30_000,
      });
      assert.equal(allowed.child.exitCode, null, "still running");
    } finally {
      const exited = new Promise((r) => allowed.child.once("exit", r));
      allowed.child.kill("SIGTERM");
      await exited;
    }
  });
});
