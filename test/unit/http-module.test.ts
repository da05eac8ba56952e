import { after, before, beforeEach, describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createBuiltinRegistry, type ModuleContext } from "../../src/agent/index.js";
import { ExecutionError, silentLogger } from "../../src/core/index.js";
import { Latch } from "../helpers/wait.js";
import { RecordingSink, job, noServices, testConfig, testExecutor } from "../fixtures/agent/harness.js";

const exec = testExecutor();
const call = (fun: string, arg: unknown[] = [], kwarg: Record<string, unknown> = {}) =>
  exec.run(job(fun, arg, kwarg));

type Handler = (req: IncomingMessage, body: string, n: number, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1; each test sets `handler`; `count` is the requests it got. */
class TestServer {
  handler: Handler = (_req, _body, _n, res) => res.end("ok");
  count = 0;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => this.handler(req, Buffer.concat(chunks).toString("utf8"), ++this.count, res));
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on: one the kernel gave out and that was closed again. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A context like the executor's, with a signal the test aborts. */
function context(signal: AbortSignal): ModuleContext {
  return {
    config: testConfig(),
    logger: silentLogger,
    emit: new RecordingSink(),
    serviceManager: noServices,
    signal,
    job: job("http.wait_for_successful_query"),
    listFunctions: () => [],
    setRetcode: () => undefined,
  };
}

void describe("http module against a real HTTP server", () => {
  const srv = new TestServer();
  before(() => srv.start());
  after(() => srv.stop());
  beforeEach(() => {
    srv.count = 0;
  });

  void it("query GETs the body; status, headers and text add Salt's keys", async () => {
    srv.handler = (req, _body, _n, res) => {
      res.setHeader("x-served-by", "test");
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end(`hello ${req.method} ${req.url}`);
    };
    const plain = await call("http.query", [`${srv.url}/a`]);
    assert.equal(plain.success, true, String(plain.return));
    assert.deepEqual(plain.return, { body: "hello GET /a" });

    const full = await call("http.query", [`${srv.url}/b`], { status: true, headers: true, text: true });
    const r = full.return as { body: string; status: number; headers: Record<string, string>; text: string };
    assert.equal(r.body, "hello GET /b");
    assert.equal(r.text, "hello GET /b");
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-served-by"], "test");
    assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
    assert.match(r.headers["content-length"] ?? "", /^\d+$/);
  });

  void it("query: an answer >= 400 is a return {error, status, body}, not a failed job", async () => {
    srv.handler = (req, _body, _n, res) => {
      res.statusCode = req.url === "/missing" ? 404 : 500;
      res.end(req.url === "/missing" ? "no such page" : "boom");
    };
    const missing = await call("http.query", [`${srv.url}/missing`]);
    assert.equal(missing.success, true);
    assert.deepEqual(missing.return, { error: "HTTP 404: Not Found", status: 404, body: "no such page" });
    const broken = await call("http.query", [`${srv.url}/broken`], { status: true, headers: true });
    assert.deepEqual(broken.return, { error: "HTTP 500: Internal Server Error", status: 500, body: "boom" });
  });

  void it("query: connection refused is a return {error}, with status 0 when status is asked", async () => {
    const port = await closedPort();
    const r = await call("http.query", [`http://127.0.0.1:${port}/`]);
    assert.equal(r.success, true);
    assert.deepEqual(r.return, { error: `connect ECONNREFUSED 127.0.0.1:${port}` });
    const s = await call("http.query", [`http://127.0.0.1:${port}/`], { status: true });
    assert.deepEqual(s.return, { error: `connect ECONNREFUSED 127.0.0.1:${port}`, status: 0 });
  });

  void it("query POSTs a map as JSON and a string as it is, with params and header_dict", async () => {
    srv.handler = (req, body, _n, res) =>
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          type: req.headers["content-type"] ?? null,
          token: req.headers["x-token"] ?? null,
          agent: req.headers["user-agent"],
          body,
        }),
      );
    const json = await call("http.query", [`${srv.url}/hook?a=1`], {
      method: "post",
      data: { name: "web1", ok: true },
      params: { b: "two", c: ["x", "y"] },
      header_dict: { "X-Token": "s3cret" },
    });
    assert.equal(json.success, true, String(json.return));
    const seen = JSON.parse((json.return as { body: string }).body) as Record<string, unknown>;
    assert.deepEqual(seen, {
      method: "POST",
      url: "/hook?a=1&b=two&c=x&c=y",
      type: "application/json",
      token: "s3cret",
      agent: seen.agent,
      body: '{"name":"web1","ok":true}',
    });
    assert.match(String(seen.agent), /^nats-reactor\/\S+ http\.query\(\)$/);

    const text = await call("http.query", [`${srv.url}/raw`, "PUT", "<xml/>"], {
      params: "k=v",
      header_dict: { "Content-Type": "application/xml" },
    });
    const raw = JSON.parse((text.return as { body: string }).body) as Record<string, unknown>;
    assert.deepEqual(
      [raw.method, raw.url, raw.type, raw.body],
      ["PUT", "/raw?k=v", "application/xml", "<xml/>"],
    );
  });

  void it("query: a body over 1 MiB and a request over its timeout are returns with error", async () => {
    srv.handler = (req, _body, _n, res) => {
      if (req.url === "/big") res.end(Buffer.alloc(1024 * 1024 + 1, "a"));
      // "/slow" never answers; the server closes it when the tests end.
    };
    const big = await call("http.query", [`${srv.url}/big`], { status: true });
    assert.deepEqual(big.return, { error: "response body is larger than 1048576 bytes", status: 200 });
    const slow = await call("http.query", [`${srv.url}/slow`], { timeout: 0.2 });
    assert.deepEqual(slow.return, { error: "timed out after 0.2 s" });
  });

  void it("query: status <code> and match turn an unexpected answer into an error", async () => {
    srv.handler = (_req, _body, _n, res) => {
      res.statusCode = 404;
      res.end("gone");
    };
    const expected = await call("http.query", [srv.url], { status: 404, match: "go.e", match_type: "pcre" });
    assert.deepEqual(expected.return, { body: "gone", status: 404 });
    srv.handler = (_req, _body, _n, res) => res.end("starting");
    const wrong = await call("http.query", [srv.url], { status: 204, match: "ready" });
    assert.deepEqual(wrong.return, {
      body: "starting",
      status: 200,
      error: 'Status 204 was not found (got 200); Match text "ready" was not found',
    });
  });

  void it("wait_for_successful_query returns once the server answers the status and the text", async () => {
    srv.handler = (_req, _body, n, res) => {
      if (n <= 2) res.statusCode = 503;
      res.end(n <= 3 ? "starting" : "ready: yes");
    };
    const r = await call("http.wait_for_successful_query", [`${srv.url}/health`], {
      wait_for: 5,
      request_interval: 0.05,
      status: 200,
      match: "ready",
    });
    assert.equal(r.success, true, String(r.return));
    assert.deepEqual(r.return, { body: "ready: yes", status: 200 });
    assert.equal(srv.count, 4);

    srv.count = 0;
    const pcre = await call("http.wait_for_successful_query", [`${srv.url}/health`, 5, 0.05], {
      match: "^ready: (yes|no)$",
      match_type: "pcre",
    });
    assert.deepEqual(pcre.return, { body: "ready: yes" });
    assert.equal(srv.count, 4);
  });

  void it("wait_for_successful_query fails the job after wait_for when the answer never matches", async () => {
    srv.handler = (_req, _body, _n, res) => res.end("starting");
    const r = await call("http.wait_for_successful_query", [`${srv.url}/health?token=s3cret`], {
      wait_for: 1,
      request_interval: 0.1,
      status: 200,
      match: "ready",
    });
    assert.equal(r.success, false);
    assert.match(
      String(r.return),
      new RegExp(
        `^ERROR: http\\.wait_for_successful_query: ${srv.url}/health gave no successful answer within 1 s ` +
          `\\(\\d+ requests\\); last: status 200, error "Match text \\\\"ready\\\\" was not found", body "starting"$`,
      ),
    );
    assert.ok(srv.count >= 2, `${srv.count} requests`);

    srv.handler = (_req, _body, _n, res) => {
      res.statusCode = 503;
      res.end("x".repeat(300));
    };
    const down = await call("http.wait_for_successful_query", [srv.url], {
      wait_for: 0.3,
      request_interval: 0.1,
    });
    assert.match(
      String(down.return),
      /; last: status 503, error "HTTP 503: Service Unavailable", body "x{200}\.\.\.\(300 chars\)"$/,
    );
  });

  void it("an abort of the job's signal stops wait_for_successful_query", async () => {
    const second = new Latch();
    srv.handler = (_req, _body, n, res) => {
      res.statusCode = 503;
      res.end("down");
      if (n === 2) second.open();
    };
    const ac = new AbortController();
    const fn = createBuiltinRegistry().get("http.wait_for_successful_query");
    assert.ok(fn);
    const waiting = fn([srv.url], { wait_for: 600, request_interval: 0.05 }, context(ac.signal));
    await second.wait(5_000, "the second request");
    ac.abort(new Error("job timed out"));
    await assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof ExecutionError);
      assert.equal(err.message, "http.wait_for_successful_query: aborted (job timed out)");
      return true;
    });
  });

  void it("a URL that is not http(s), a bad regex and other bad arguments are argument errors", async () => {
    const bad = async (fun: string, arg: unknown[], kwarg: Record<string, unknown>, message: string) => {
      const r = await call(fun, arg, kwarg);
      assert.equal(r.success, false);
      assert.equal(r.return, `Passed invalid arguments to ${fun}: ${message}`);
    };
    const q = "http.query";
    const w = "http.wait_for_successful_query";
    await bad(
      q,
      ["ftp://127.0.0.1/x"],
      {},
      `argument 'url' must be an http:// or https:// URL, got "ftp://127.0.0.1/x"`,
    );
    await bad(
      w,
      ["file:///etc/passwd"],
      {},
      `argument 'url' must be an http:// or https:// URL, got "file:///etc/passwd"`,
    );
    await bad(
      q,
      ["127.0.0.1:80"],
      {},
      `argument 'url' must be an http:// or https:// URL, got "127.0.0.1:80"`,
    );
    await bad(
      w,
      [srv.url],
      { match: "(", match_type: "pcre" },
      "argument 'match' is not a valid regular expression: Invalid regular expression: /(/: Unterminated group",
    );
    await bad(
      q,
      [srv.url],
      { match: "x", match_type: "glob" },
      `argument 'match_type' must be string or pcre, got "glob"`,
    );
    await bad(
      q,
      [srv.url],
      { data: "x" },
      "argument 'data' cannot be sent with GET; use method=POST (or PUT, PATCH...)",
    );
    await bad(
      w,
      [srv.url],
      { status: 42 },
      "argument 'status' must be true, false or an HTTP status code, got 42",
    );
    await bad(w, [srv.url], { wait_for: -1 }, "argument 'wait_for' must be 0 or more, got -1");
    await bad(q, [srv.url], { timeout: 0 }, "argument 'timeout' must be more than 0, got 0");
    await bad(
      q,
      [srv.url],
      { method: "GET /x" },
      `argument 'method' must be an HTTP method such as GET or POST, got "GET /X"`,
    );
    await bad(q, [srv.url], { verify_ssl: false }, "got an unexpected keyword argument 'verify_ssl'");
    assert.equal(srv.count, 0);
  });
});
