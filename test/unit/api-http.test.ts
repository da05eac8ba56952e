/**
 * The API's HTTP behaviour (src/api/server.ts) on a real listener, with the service side replaced
 * by in-memory ports (the thing under test is the HTTP layer): Salt's status codes and bodies,
 * JSON and YAML answers, 406, disabled clients, /run, logout, cookies, token expiry, CORS, and
 * refusals audited and rate-limited.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startApiServer, type ApiPorts, type ApiServer, type EventFeed } from "../../src/api/index.js";
import { compileServiceConfig } from "../../src/config/index.js";
import { matchTargets } from "../../src/core/targeting/index.js";
import type { TargetType } from "../../src/core/index.js";

const MINIONS = [
  { id: "web1", grains: {} },
  { id: "app1", grains: {} },
];

function idleFeed(): EventFeed {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  return {
    stop: async () => stop(),
    async *[Symbol.asyncIterator]() {
      await stopped;
    },
  };
}

void describe("the API's HTTP layer", () => {
  let server: ApiServer;
  const audits: { tag: string; data: Record<string, unknown> }[] = [];
  const published: { fun: string; user: string }[] = [];

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-apihttp-"));
    await writeFile(join(dir, "users"), "fred:fred-pw\nwilma:wilma-pw\n");
    const text = JSON.stringify({
      rest_cherrypy: {
        host: "127.0.0.1",
        port: 0,
        disable_ssl: true,
        cors_origin: "https://ui.example",
        auth_rate_per_minute: 20,
      },
      netapi_enable_clients: ["local", "runner"],
      token_expire: 60,
      token_expire_user_override: { file: ["wilma"] },
      external_auth: {
        file: { "^filename": join(dir, "users"), fred: [{ "app*": ["test.*"] }], wilma: [".*", "@runner"] },
      },
    });
    const config = compileServiceConfig(text, join(dir, "reactor.yaml")).api!;
    const ports: ApiPorts = {
      resolve: (tgt, t) => matchTargets(tgt, t as TargetType, MINIONS),
      runLocal: async (c) => {
        published.push({ fun: c.fun, user: c.user });
        const targets = matchTargets(c.tgt, c.tgtType as TargetType, MINIONS);
        return {
          jid: "20260101000000000000",
          targets,
          returns: Object.fromEntries(targets.map((t) => [t, { return: true, retcode: 0, success: true }])),
        };
      },
      startLocal: async () => ({ jid: "20260101000000000001", targets: [] }),
      callService: async (_k, fun) => ({ jid: "20260101000000000002", return: `ran ${fun}`, success: true }),
      audit: async (tag, data) => void audits.push({ tag, data }),
      watch: async () => idleFeed(),
    };
    server = await startApiServer(config, ports);
  });
  after(() => server.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const login = async (username: string, password: string, extra: Record<string, unknown> = {}) => {
    const r = await post("/login", { username, password, eauth: "file", ...extra });
    assert.equal(r.status, 200);
    return {
      res: r,
      body: (
        (await r.json()) as {
          return: {
            token: string;
            expire: number;
            start: number;
            user: string;
            eauth: string;
            perms: unknown;
          }[];
        }
      ).return[0]!,
    };
  };

  it("/login answers Salt's shape, the X-Auth-Token header and the session cookie; a form body works too", async () => {
    const { res, body } = await login("fred", "fred-pw");
    assert.match(body.token, /^[0-9a-f]{40}$/);
    assert.equal(res.headers.get("x-auth-token"), body.token);
    assert.match(res.headers.get("set-cookie") ?? "", new RegExp(`^session_id=${body.token}; expires=`));
    assert.equal(body.user, "fred");
    assert.equal(body.eauth, "file");
    assert.equal(Math.round(body.expire - body.start), 60);
    assert.deepEqual(body.perms, [{ "app*": ["test.*"] }]);
    const form = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "username=fred&password=fred-pw&eauth=file",
    });
    assert.equal(form.status, 200);
  });

  it("token_expire_user_override lets a listed user choose the lifetime, and no one else", async () => {
    const w = await login("wilma", "wilma-pw", { token_expire: 5 });
    assert.equal(Math.round(w.body.expire - w.body.start), 5);
    const f = await login("fred", "fred-pw", { token_expire: 5 });
    assert.equal(Math.round(f.body.expire - f.body.start), 60);
  });

  it("the cookie authenticates like the header; /logout clears the token", async () => {
    const { body } = await login("fred", "fred-pw");
    const ok = await post("/", [{ client: "local", tgt: "app1", fun: "test.ping" }], {
      cookie: `session_id=${body.token}`,
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { return: [{ app1: true }] });
    assert.equal((await post("/logout", {}, { "x-auth-token": body.token })).status, 200);
    assert.equal(
      (await post("/", [{ client: "local", tgt: "app1", fun: "test.ping" }], { "x-auth-token": body.token }))
        .status,
      401,
    );
  });

  it("full_return, YAML answers and 406 for an Accept the API cannot answer", async () => {
    const { body } = await login("wilma", "wilma-pw");
    const full = await post("/", [{ client: "local", tgt: "app1", fun: "test.ping", full_return: true }], {
      "x-auth-token": body.token,
    });
    assert.deepEqual(await full.json(), {
      return: [{ app1: { ret: true, retcode: 0, jid: "20260101000000000000" } }],
    });
    const yaml = await post("/", [{ client: "runner", fun: "manage.status" }], {
      "x-auth-token": body.token,
      accept: "application/x-yaml",
    });
    assert.equal(yaml.headers.get("content-type"), "application/x-yaml");
    assert.equal(await yaml.text(), "return:\n  - ran manage.status\n");
    const bad = await post("/", [{ client: "local", tgt: "*", fun: "test.ping" }], {
      "x-auth-token": body.token,
      accept: "text/html",
    });
    assert.equal(bad.status, 406);
  });

  it("a client not in netapi_enable_clients is refused with Salt's message; a non-list lowstate is 400", async () => {
    const { body } = await login("wilma", "wilma-pw");
    const r = await post("/", [{ client: "wheel", fun: "key.list_all" }], { "x-auth-token": body.token });
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), {
      status: 400,
      return: "Client disabled: 'wheel'. Add to 'netapi_enable_clients' master config option to enable.",
    });
    assert.equal((await post("/", "test.ping", { "x-auth-token": body.token })).status, 400);
  });

  it("/run takes credentials or a token in each chunk and stamps the user on the job", async () => {
    published.length = 0;
    const r = await post("/run", [
      { client: "local", tgt: "*", fun: "test.ping", username: "wilma", password: "wilma-pw", eauth: "file" },
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { return: [{ web1: true, app1: true }] });
    assert.deepEqual(published, [{ fun: "test.ping", user: "wilma" }]);
    assert.equal(
      (
        await post("/run", [
          { client: "local", tgt: "*", fun: "test.ping", username: "wilma", password: "x", eauth: "file" },
        ])
      ).status,
      401,
    );
  });

  it("an ACL refusal is 403, nothing is published, and it is audited with user and address", async () => {
    const { body } = await login("fred", "fred-pw");
    published.length = 0;
    audits.length = 0;
    const r = await post("/", [{ client: "local", tgt: "*", fun: "test.ping" }], {
      "x-auth-token": body.token,
    });
    assert.equal(r.status, 403);
    assert.deepEqual(published, []);
    assert.equal(audits[0]?.tag, "reactor/api/refused");
    assert.equal(audits[0]?.data["user"], "fred");
    assert.equal(audits[0]?.data["status"], 403);
    assert.equal(audits[0]?.data["address"], "127.0.0.1");
  });

  it("a websocket with a bad token is refused with 401 before the upgrade", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws/${"a".repeat(40)}`);
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => reject(new Error("the websocket opened")));
      ws.once("error", () => undefined);
    });
    assert.equal(status, 401);
  });

  it("CORS: the configured origin is answered, with Salt's preflight headers", async () => {
    const pre = await fetch(`${server.url}/`, {
      method: "OPTIONS",
      headers: { origin: "https://ui.example", "access-control-request-method": "POST" },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://ui.example");
    assert.equal(
      pre.headers.get("access-control-allow-headers"),
      "Content-Type, X-Auth-Token, X-Requested-With",
    );
    const other = await fetch(`${server.url}/`, { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });

  it("refusals past auth_rate_per_minute from one user get 429 (last: the counter stays spent)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await post("/login", { username: "nobody", password: "x", eauth: "file" })).status);
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(",")}`);
    assert.ok(statuses.slice(0, statuses.indexOf(429)).every((s) => s === 401));
  });
});
