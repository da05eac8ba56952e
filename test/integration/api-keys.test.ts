/**
 * `POST /keys` (salt-api's key.gen_accept) with a real nats-server, `reactor serve` and a real agent:
 * the tarball a kickstart script unpacks into the agent's state directory (`agent.nk` 0600,
 * `agent.pub`, `service.pub`) lets a new agent in without anyone accepting its key (auto_accept is
 * off), and it answers jobs. A second call for the same id is 409 unless force; a user without wheel
 * rights is 403 and nothing is created; the seed never appears in an event.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { natsForTests, freePort } from "../helpers/nats-server.js";
import { startAgentProc, startCliProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { runCli } from "../helpers/cli.js";

void describe("POST /keys: generate and pre-accept an agent key", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let env: Record<string, string>;
  let url: string;
  const procs: Proc[] = [];

  const keyList = async () => {
    const r = await runCli(["key", "list", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, string[]>;
  };
  const postKeys = (form: Record<string, string>, accept?: string) =>
    fetch(`${url}/keys`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(accept ? { accept } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });
  const admin = { username: "kickstart", password: "kick-pw-1", eauth: "file" };

  before(async () => {
    nats = await natsForTests();
    dir = await mkdtemp(join(tmpdir(), "nr-apikeys-"));
    await writeFile(join(dir, "users"), "kickstart:kick-pw-1\npinger:ping-pw-2\n");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, "reactor.yaml"),
      JSON.stringify({
        keys: { service_key: "service.nk", auto_accept: false },
        reactor: [],
        rest_cherrypy: { host: "127.0.0.1", port, disable_ssl: true },
        netapi_enable_clients: ["local", "wheel"],
        external_auth: {
          file: { "^filename": join(dir, "users"), kickstart: ["@wheel", ".*"], pinger: [".*"] },
        },
      }),
    );
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
    procs.push(startServe(dir, env));
    await waitFor(async () => (await fetch(`${url}/`).catch(() => undefined))?.ok, {
      what: `the API to listen (service: ${procs[0]!.err().slice(-800)})`,
      timeoutMs: 20_000,
    });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await nats?.stop();
  });

  it("the tarball unpacked into a state directory lets a new agent in and it answers a job", async () => {
    const r = await postKeys({ mid: "kick1", ...admin });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/x-tar");
    assert.equal(r.headers.get("content-disposition"), 'attachment; filename="saltkeys-kick1.tar"');
    assert.equal(r.headers.get("cache-control"), "no-store");
    const tarFile = join(dir, "kick1.tar");
    await writeFile(tarFile, Buffer.from(await r.arrayBuffer()));
    const state = join(dir, "state-kick1");
    await mkdir(state, { mode: 0o700 });
    // as salt-api's kickstart example: curl ... | tar -C <state_dir> -xf -
    assert.deepEqual(execFileSync("tar", ["-tf", tarFile], { encoding: "utf8" }).trim().split("\n"), [
      "agent.nk",
      "agent.pub",
      "service.pub",
    ]);
    execFileSync("tar", ["-C", state, "-xpf", tarFile]);
    assert.equal((await stat(join(state, "agent.nk"))).mode & 0o777, 0o600);
    const seed = (await readFile(join(state, "agent.nk"), "utf8")).trim();
    assert.match(seed, /^SU[A-Z2-7]{56}$/);
    const pub = (await readFile(join(state, "agent.pub"), "utf8")).trim();
    assert.deepEqual((await keyList())["minions"], ["kick1"]);
    const finger = await runCli(["key", "finger", "kick1", "--json"], env);
    assert.match(finger.stdout, /kick1/);

    procs.push(await startAgentProc(dir, "kick1", env));
    const login = await fetch(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(admin),
    });
    const token = ((await login.json()) as { return: { token: string }[] }).return[0]!.token;
    await waitFor(
      async () => {
        const p = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-auth-token": token },
          body: JSON.stringify([{ client: "local", tgt: "kick1", fun: "test.ping", timeout: 5 }]),
        });
        const b = (await p.json()) as { return: Record<string, unknown>[] };
        return b.return[0]?.["kick1"] === true;
      },
      { what: `kick1 to answer (agent: ${procs.at(-1)!.err().slice(-800)})`, timeoutMs: 30_000 },
    );
    // still the pre-accepted key, never pending
    const keys = await keyList();
    assert.deepEqual(keys["minions"], ["kick1"]);
    assert.deepEqual(keys["minions_pre"], []);
    const seen = await storedEvents();
    assert.match(seen, /salt\/key/);
    assert.match(seen, /reactor\/api\/keys/);
    assert.ok(seen.includes(pub), "the audit names the public key");
    assert.ok(!seen.includes(seed), "the seed is in no event");
  });

  it("a second call for the same id is 409; force=true replaces the key; JSON on request", async () => {
    const again = await postKeys({ mid: "kick1", ...admin });
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as { return: string }).return, /kick1 already has a key \(accepted\)/);
    const before = await runCli(["key", "finger", "kick1", "--json"], env);
    const forced = await postKeys({ mid: "kick1", force: "true", ...admin }, "application/json");
    assert.equal(forced.status, 200);
    const body = (await forced.json()) as {
      return: { id: string; pub: string; seed: string; state: string };
    };
    assert.equal(body.return.id, "kick1");
    assert.equal(body.return.state, "accepted");
    assert.match(body.return.seed, /^SU/);
    const after = await runCli(["key", "finger", "kick1", "--json"], env);
    assert.notEqual(after.stdout, before.stdout);
  });

  it("no credentials 401, wrong password 401, no wheel rights 403, a bad id 400: no key is made", async () => {
    assert.equal((await postKeys({ mid: "kick2" })).status, 401);
    assert.equal((await postKeys({ mid: "kick2", ...admin, password: "nope" })).status, 401);
    const denied = await postKeys({ mid: "kick2", username: "pinger", password: "ping-pw-2", eauth: "file" });
    assert.equal(denied.status, 403);
    assert.equal((await postKeys({ mid: "bad id/*", ...admin })).status, 400);
    assert.equal((await postKeys({ ...admin })).status, 400);
    const keys = await keyList();
    assert.deepEqual(
      Object.values(keys)
        .flat()
        .filter((id) => id !== "kick1"),
      [],
    );
  });

  /** Every stored event (`reactor event watch --all --json`) once the audit of POST /keys is among them. */
  async function storedEvents(): Promise<string> {
    const p = startCliProc(["event", "watch", "--all", "--json"], env);
    try {
      await waitFor(() => p.out().includes("reactor/api/keys"), {
        what: `the audit event (watch: ${p.err().slice(-400)})`,
        timeoutMs: 15_000,
      });
      return p.out();
    } finally {
      await p.stop();
    }
  }
});
