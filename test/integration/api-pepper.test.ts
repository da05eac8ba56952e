/**
 * The REST API (issue 18) driven by pepper, Salt's own client, as a user installs it (Debian's
 * salt-pepper): a real nats-server, `reactor serve` with `rest_cherrypy:` and three real agents.
 * Logins with `file` (htpasswd) and `pam` (a throwaway system user made by the test), the local,
 * local_async, runner and wheel clients, -G/-L/-C targets, and the refusals of a user restricted
 * to `app*`. An SSE client and a websocket client see the job events they may see, and only those.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import WebSocket from "ws";
import { natsForTests, freePort } from "../helpers/nats-server.js";
import { startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { runCli } from "../helpers/cli.js";

const PEPPER = ["/usr/bin/salt-pepper", "/usr/bin/pepper"].find((p) => existsSync(p));
const PAMTESTER = existsSync("/usr/bin/pamtester");
const ROOT = process.getuid?.() === 0;
// needs pepper and pamtester (.ci/run installs both) and root to create the PAM user
const skip = !PEPPER
  ? "salt-pepper is not installed (.ci/run installs it)"
  : !PAMTESTER
    ? "pamtester is not installed (.ci/run installs it)"
    : !ROOT
      ? "creating the PAM test user needs root"
      : false;

interface PepperResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("the REST API through pepper", { skip }, () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let env: Record<string, string>;
  let url: string;
  const procs: Proc[] = [];
  const pamUser = `nrapi${process.pid % 100000}`;
  const pamPass = `Pw-${Math.random().toString(36).slice(2)}-x`;

  const pepper = (user: string, pass: string, eauth: string, args: string[]): Promise<PepperResult> =>
    new Promise((resolve) => {
      const child = spawn(PEPPER!, ["--saltapi-url", url, ...args], {
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          HOME: dir,
          SALTAPI_USER: user,
          SALTAPI_PASS: pass,
          SALTAPI_EAUTH: eauth,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  const returnOf = (r: PepperResult): unknown => {
    assert.equal(r.code, 0, `pepper failed: ${r.stderr}${r.stdout}`);
    return (JSON.parse(r.stdout) as { return: unknown[] }).return[0];
  };
  const admin = (args: string[]) => pepper("alice", "alice-secret-pw", "file", args);
  const restricted = (args: string[]) => pepper(pamUser, pamPass, "pam", args);

  before(async () => {
    try {
      execFileSync("userdel", [pamUser], { stdio: "ignore" }); // left by a run that was killed
    } catch {
      // no such user: the usual case
    }
    execFileSync("useradd", ["-M", "-s", "/usr/sbin/nologin", pamUser]);
    execFileSync("chpasswd", { input: `${pamUser}:${pamPass}\n` });
    nats = await natsForTests();
    dir = await mkdtemp(join(tmpdir(), "nr-api-"));
    await writeFile(join(dir, "htpasswd"), `alice:${bcrypt.hashSync("alice-secret-pw", 8)}\n`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, "reactor.yaml"),
      JSON.stringify({
        keys: { service_key: "service.nk", auto_accept: true },
        reactor: [],
        http: { listen: "127.0.0.1:0", hooks: { deploy: { token: "deploy-hook-token-0123" } } },
        rest_cherrypy: { host: "127.0.0.1", port, disable_ssl: true },
        netapi_enable_clients: ["local", "local_async", "runner", "wheel"],
        external_auth: {
          file: {
            "^filename": join(dir, "htpasswd"),
            "^filetype": "htpasswd",
            alice: [".*", "@runner", "@wheel", "@jobs"],
          },
          pam: { [pamUser]: [{ "app*": ["test.*"] }] },
        },
      }),
    );
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
    procs.push(startServe(dir, env));
    await waitFor(async () => (await fetch(`${url}/`).catch(() => undefined))?.ok, {
      what: `the API to listen (service: ${procs[0]!.err().slice(-800)})`,
      timeoutMs: 20_000,
    });
    for (const [id, role] of [
      ["web1", "web"],
      ["app1", "app"],
      ["app2", "app"],
    ] as const)
      procs.push(await startAgentProc(dir, id, env, { grains: { role } }));
    await waitFor(
      async () => {
        const r = await runCli(["key", "list", "--json"], env);
        const keys = r.code === 0 ? (JSON.parse(r.stdout) as Record<string, string[]>) : {};
        return (keys["minions"] ?? []).length === 3;
      },
      { what: "three accepted agents", timeoutMs: 30_000 },
    );
    await waitFor(
      async () => {
        const r = await admin(["*", "test.ping"]);
        return (
          r.code === 0 &&
          Object.keys((JSON.parse(r.stdout) as { return: Record<string, unknown>[] }).return[0] ?? {})
            .length === 3
        );
      },
      { what: "all three agents to answer", timeoutMs: 30_000 },
    );
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await nats?.stop();
    try {
      execFileSync("userdel", [pamUser]);
    } catch {
      // already gone
    }
  });

  it("file eauth: pepper '*' test.ping answers for every agent", async () => {
    assert.deepEqual(returnOf(await admin(["*", "test.ping"])), { web1: true, app1: true, app2: true });
  });

  it("targets with -G, -L and -C", async () => {
    assert.deepEqual(returnOf(await admin(["-G", "role:app", "test.ping"])), { app1: true, app2: true });
    assert.deepEqual(returnOf(await admin(["-L", "web1,app2", "test.ping"])), { web1: true, app2: true });
    assert.deepEqual(returnOf(await admin(["-C", "G@role:app and not app2", "test.ping"])), { app1: true });
  });

  it("--client=local_async returns the jid and minions; the job carries the user; runner jobs.lookup_jid finds the returns", async () => {
    const r = returnOf(await admin(["--client=local_async", "app*", "test.echo", "hello"])) as {
      jid: string;
      minions: string[];
    };
    assert.match(r.jid, /^\d{20}$/);
    assert.deepEqual([...r.minions].sort(), ["app1", "app2"]);
    const found = await waitFor(
      async () => {
        const l = returnOf(await admin(["--client=runner", "jobs.lookup_jid", `jid=${r.jid}`])) as Record<
          string,
          unknown
        >;
        return Object.keys(l).length === 2 ? l : undefined;
      },
      { what: "both returns in jobs.lookup_jid" },
    );
    assert.deepEqual(found, { app1: "hello", app2: "hello" });
    const jobs = returnOf(await admin(["--client=runner", "jobs.list_jobs"])) as Record<
      string,
      { User: string; Function: string }
    >;
    assert.equal(jobs[r.jid]?.User, "alice");
    assert.equal(jobs[r.jid]?.Function, "test.echo");
  });

  it("--client=wheel key.list_all lists the accepted keys in Salt's shape", async () => {
    const r = returnOf(await admin(["--client=wheel", "key.list_all"])) as {
      tag: string;
      data: { return: Record<string, string[]>; success: boolean; user: string };
    };
    assert.match(r.tag, /^salt\/wheel\/\d{20}\/ret$/);
    assert.equal(r.data.success, true);
    assert.equal(r.data.user, "alice");
    assert.deepEqual([...(r.data.return["minions"] ?? [])].sort(), ["app1", "app2", "web1"]);
  });

  it("pam eauth: the restricted user may ping app* and nothing else", async () => {
    assert.deepEqual(returnOf(await restricted(["app*", "test.ping"])), { app1: true, app2: true });
    const other = await restricted(["*", "test.ping"]);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr + other.stdout, /403|Forbidden/);
    const web = await restricted(["-L", "app1,web1", "test.ping"]);
    assert.notEqual(web.code, 0, "a list reaching outside app* is refused");
    const fun = await restricted(["app1", "cmd.run", "id"]);
    assert.notEqual(fun.code, 0, "a function outside test.* is refused");
    const wheel = await restricted(["--client=wheel", "key.list_all"]);
    assert.notEqual(wheel.code, 0);
    assert.match(wheel.stderr + wheel.stdout, /403|Forbidden/);
  });

  it("a wrong password and a missing or bad token get 401", async () => {
    const bad = await pepper(pamUser, "not-the-password", "pam", ["app*", "test.ping"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /Authentication denied/);
    const badFile = await pepper("alice", "wrong", "file", ["*", "test.ping"]);
    assert.match(badFile.stderr + badFile.stdout, /Authentication denied/);
    const none = await fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify([{ client: "local", tgt: "*", fun: "test.ping" }]),
    });
    assert.equal(none.status, 401);
    const forged = await fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": "0".repeat(40) },
      body: "[]",
    });
    assert.equal(forged.status, 401);
    assert.deepEqual(await forged.json(), {
      status: 401,
      return: "No permission -- see authorization schemes",
    });
  });

  it("GET /minions/<id>, /keys and /jobs/<jid> answer Salt's shapes; the webhooks are served on the API's port", async () => {
    const r = await fetch(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "alice-secret-pw", eauth: "file" }),
    });
    const token = ((await r.json()) as { return: { token: string }[] }).return[0]!.token;
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`, { headers: { "x-auth-token": token } });
      assert.equal(res.status, 200, path);
      return (await res.json()) as Record<string, unknown>;
    };
    const m = (await get("/minions/web1")) as { return: Record<string, Record<string, unknown>>[] };
    assert.equal(m.return[0]!["web1"]!["role"], "web");
    const k = (await get("/keys")) as { return: Record<string, string[]> };
    assert.deepEqual([...(k.return["minions"] ?? [])].sort(), ["app1", "app2", "web1"]);
    const started = await fetch(`${url}/minions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify([{ tgt: "web1", fun: "test.ping" }]),
    });
    assert.equal(started.status, 202);
    const jid = ((await started.json()) as { return: { jid: string }[] }).return[0]!.jid;
    const job = await waitFor(
      async () => {
        const j = (await get(`/jobs/${jid}`)) as {
          info: { User?: string }[];
          return: Record<string, unknown>[];
        };
        return j.return[0]!["web1"] === true ? j : undefined;
      },
      { what: "the job's return in /jobs/<jid>" },
    );
    assert.equal(job.info[0]!.User, "alice");
    const hook = await fetch(`${url}/hook/deploy`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer deploy-hook-token-0123" },
      body: "{}",
    });
    assert.equal(hook.status, 202);
    const noAuth = await fetch(`${url}/hook/deploy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(noAuth.status, 401);
  });

  it("SSE and websocket clients see the job events of a command run meanwhile, and only those they may see", async () => {
    const login = async (username: string, password: string, eauth: string) => {
      const r = await fetch(`${url}/login`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ username, password, eauth }),
      });
      assert.equal(r.status, 200);
      return ((await r.json()) as { return: { token: string }[] }).return[0]!.token;
    };
    const tokR = await login(pamUser, pamPass, "pam");
    const tokA = await login("alice", "alice-secret-pw", "file");
    const sse = await fetch(`${url}/events`, { headers: { "x-auth-token": tokR } });
    assert.equal(sse.status, 200);
    const reader = sse.body!.getReader();
    let sseText = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        sseText += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    const ws = new WebSocket(`${url.replace("http", "ws")}/ws/${tokR}`);
    const frames: string[] = [];
    ws.on("message", (m: Buffer) => frames.push(m.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send("websocket client ready");
    // wait until both streams are live: a first job on app1 shows up in both
    await waitFor(
      async () => {
        await fetch(`${url}/`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-auth-token": tokA },
          body: JSON.stringify([{ client: "local", tgt: "app1", fun: "test.ping" }]),
        });
        return sseText.includes("/ret/app1") && frames.some((f) => f.includes("/ret/app1"));
      },
      { what: "both streams to show a job on app1" },
    );
    const res = await fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": tokA },
      body: JSON.stringify([{ client: "local", tgt: "*", fun: "test.echo", arg: ["meanwhile"] }]),
    });
    const jid = await (async () => {
      assert.equal(res.status, 200);
      const listed = returnOfJobs(await fetch(`${url}/jobs`, { headers: { "x-auth-token": tokA } }));
      return Object.entries(await listed).find(
        ([, j]) => j.Function === "test.echo" && JSON.stringify(j.Arguments) === '["meanwhile"]',
      )![0];
    })();
    await waitFor(
      () =>
        sseText.includes(`salt/job/${jid}/ret/app2`) &&
        frames.some((f) => f.includes(`salt/job/${jid}/ret/app2`)),
      { what: "app2's return in both streams" },
    );
    const wsData = frames
      .filter((f) => f.includes(jid))
      .map((f) => JSON.parse(f.replace(/^data: /, "")) as { tag: string; data: { id?: string } });
    assert.ok(
      wsData.every((e) => !e.tag.endsWith("/web1")),
      "web1's return is not shown to a user restricted to app*",
    );
    assert.ok(!sseText.includes(`salt/job/${jid}/ret/web1`));
    assert.ok(!sseText.includes(`salt/job/${jid}/new`), "the job's new event targets web1 too: not shown");
    assert.ok(wsData.some((e) => e.tag === `salt/job/${jid}/ret/app1`));
    ws.close();
    await reader.cancel();
  });
});

async function returnOfJobs(
  r: Response,
): Promise<Record<string, { Function: string; Arguments: unknown[] }>> {
  assert.equal(r.status, 200);
  return ((await r.json()) as { return: Record<string, { Function: string; Arguments: unknown[] }>[] })
    .return[0]!;
}
