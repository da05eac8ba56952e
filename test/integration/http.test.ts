import { signEvent } from "../../src/core/auth/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { strict as assert } from "node:assert";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger, startService, type ServiceHandle } from "../../src/apps/index.js";
import { publisherSink, startServiceHttp, type ServiceHttp } from "../../src/apps/http.js";
import {
  createEventPublisher,
  openConnection,
  watchEvents,
  type Connection,
  type EventPublisher,
} from "../../src/bus/index.js";
import { compileHttpConfig, parseYaml } from "../../src/config/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { busWatcher, signBody } from "../../src/netapi/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { fixtureDir } from "../helpers/stack.js";
import { Latch, waitFor } from "../helpers/wait.js";
import { registerMinion } from "../helpers/minions.js";

const HOOK_TOKEN = "hook-token-0123456789";
const HMAC_SECRET = "hmac-secret-0123456789";
const OPS_TOKEN = "ops-token-0123456789ab";
const HTTP_YAML = `
http:
  listen: 127.0.0.1:0
  max_body: 1KiB
  rate_limit: { per_minute: 1, burst: 4 }
  hooks:
    deploy: { token: ${HOOK_TOKEN} }
    github/*: { hmac: { secret: ${HMAC_SECRET} } }
    limited: { token: ${HOOK_TOKEN} }
    big: { token: ${HOOK_TOKEN} }
  tokens:
    ops: { token: ${OPS_TOKEN}, tags: ['salt/beacon/*'] }
`;


interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A raw HTTP request (fetch would normalise `..` in paths). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = (a: Answer) => JSON.parse(a.text) as Record<string, unknown>;

describe("webhooks, event stream and metrics against a real nats-server", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let service: ServiceHandle;
  let web: ServiceHttp;
  let conn: Connection;
  let pub: EventPublisher;
  let base: string;
  const hookEvents: ReactorEvent[] = [];
  let openStreams = 0;

  before(async () => {
    nats = await natsForTests();
    const dir = await fixtureDir("service");
    service = await startService({
      configPath: join(dir, "reactor.yaml"),
      nats: nats.url,
      log: createLogger({ level: "warn" }),
    });
    const src = parseYaml(HTTP_YAML, "http.yaml");
    const { config, errors } = compileHttpConfig((src.value as Record<string, unknown>)["http"], src);
    assert.deepEqual(errors, []);
    // what this test publishes is signed with the service key, as the service's own publisher does
    const key = await loadServiceKey(service.serviceKey.file);
    const sign = (e: ReactorEvent) => signEvent(e, key);
    const publisher = createEventPublisher(service.conn, { maxEventBytes: 1 << 20, sign });
    const bus = busWatcher(service.conn, "EVENTS", 1 << 20);
    web = await startServiceHttp({
      conn: service.conn,
      counters: () => ({ ...service.engine.counters }),
      sink: publisherSink(publisher),
      stream: "EVENTS",
      durable: "reactor",
      maxEventBytes: 1 << 20,
      http: config!,
      metricsListen: "127.0.0.1:0",
      // The real watcher, counting the consumers that are open.
      watch: async (filter) => {
        const stream = await bus(filter);
        openStreams++;
        const stop = stream.stop.bind(stream);
        let stopped = false;
        return Object.assign(stream, {
          stop: () => {
            if (!stopped) openStreams--;
            stopped = true;
            return stop();
          },
        });
      },
    });
    base = web.http!.url;
    conn = await openConnection({ servers: [nats.url] });
    pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign });
    for (const id of ["web1", "db1"]) await registerMinion(conn, id);
    await waitFor(() => service.minions.list().length === 2, { what: "the minion directory" });
    const w = await watchEvents(conn, "EVENTS", {
      filter: "evt.salt.netapi.hook.>",
      start: { kind: "all" },
      maxEventBytes: 1 << 20,
      onInvalid: () => undefined,
    });
    void (async () => {
      for await (const d of w) hookEvents.push(d.event);
    })();
  });
  after(async () => {
    await web.stop();
    await service.stop();
    await conn.close();
    await nats.stop();
  });

  const signed = (body: string, extra: Record<string, string> = {}) => ({
    "content-type": "application/json",
    "x-hub-signature-256": signBody(body, HMAC_SECRET),
    ...extra,
  });

  it("fires exactly the event of a webhook with a good HMAC signature", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", commits: [1, 2] });
    const a = await raw(
      base,
      "POST",
      "/hook/github/push",
      signed(body, { "x-github-event": "push", cookie: "session=secret" }),
      body,
    );
    assert.equal(a.status, 202);
    const id = json(a)["id"] as string;
    const ev = await waitFor(() => hookEvents.find((e) => e.id === id), { what: "the hook event" });
    assert.equal(ev.tag, "salt/netapi/hook/github/push");
    assert.equal(ev.source, "netapi");
    assert.deepEqual(ev.data["post"], { ref: "refs/heads/main", commits: [1, 2] }); // salt-api: post is the deserialized body
    assert.equal(ev.data["body"], body); // and body the raw text
    const headers = ev.data["headers"] as Record<string, string>;
    assert.equal(headers["x-github-event"], "push");
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers["x-hub-signature-256"], undefined);
    assert.equal(headers["cookie"], undefined);
  });

  it("refuses a bad or missing signature with 401 and fires nothing", async () => {
    const body = JSON.stringify({ ref: "evil" });
    const bad = await raw(base, "POST", "/hook/github/tamper", signed('{"ref":"main"}'), body);
    assert.equal(bad.status, 401);
    assert.deepEqual(json(bad), { error: "missing or invalid signature in x-hub-signature-256" });
    const none = await raw(base, "POST", "/hook/github/tamper", { "content-type": "application/json" }, body);
    assert.equal(none.status, 401);
    // A good request to the same path after them: once it is in the stream, the bad ones would be too.
    const ok = await raw(base, "POST", "/hook/github/tamper", signed(body), body);
    assert.equal(ok.status, 202);
    const id = json(ok)["id"];
    await waitFor(() => hookEvents.some((e) => e.id === id), { what: "the marker event" });
    assert.deepEqual(
      hookEvents.filter((e) => e.tag === "salt/netapi/hook/github/tamper").map((e) => e.id),
      [id],
    );
  });

  it("takes a bearer token and form fields; refuses a wrong token with 401", async () => {
    const wrong = await raw(
      base,
      "POST",
      "/hook/deploy",
      { authorization: "Bearer nope", "content-type": "text/plain" },
      "x",
    );
    assert.equal(wrong.status, 401);
    assert.deepEqual(json(wrong), { error: "missing or invalid bearer token" });
    assert.equal(wrong.headers["www-authenticate"], 'Bearer realm="hook"');
    const form = "app=web&env=prod&tag=a&tag=b";
    const a = await raw(
      base,
      "POST",
      "/hook/deploy",
      { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      form,
    );
    assert.equal(a.status, 202);
    const ev = await waitFor(() => hookEvents.find((e) => e.id === json(a)["id"]), {
      what: "the form event",
    });
    assert.equal(ev.data["body"], form);
    assert.deepEqual(ev.data["post"], { app: "web", env: "prod", tag: ["a", "b"] });
    assert.equal((ev.data["headers"] as Record<string, string>)["authorization"], undefined);
  });

  it("answers 404 for an unknown hook, 405 for GET, 400 for unsafe paths", async () => {
    const auth = { authorization: `Bearer ${HOOK_TOKEN}` };
    const unknown = await raw(base, "POST", "/hook/nothing/here", auth, "{}");
    assert.equal(unknown.status, 404);
    assert.deepEqual(json(unknown), { error: 'no hook is configured for "nothing/here"' });
    const get = await raw(base, "GET", "/hook/deploy", auth);
    assert.equal(get.status, 405);
    assert.equal(get.headers["allow"], "POST");
    assert.deepEqual(json(get), { error: "method GET is not allowed; webhooks take POST" });
    for (const path of ["/hook/github/../deploy", "/hook/deploy/", "/hook/a%20b", "/hook//deploy"]) {
      const a = await raw(base, "POST", path, auth, "{}");
      assert.equal(a.status, 400, path);
      assert.match(json(a)["error"] as string, /^invalid hook path /);
    }
  });

  it("answers 413 for a body over max_body", async () => {
    const a = await raw(
      base,
      "POST",
      "/hook/big",
      { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "text/plain" },
      "x".repeat(1025),
    );
    assert.equal(a.status, 413);
    assert.deepEqual(json(a), { error: "request body is larger than 1024 bytes" });
  });

  it("answers 429 with Retry-After past the burst", async () => {
    const auth = { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" };
    for (let i = 0; i < 4; i++)
      assert.equal((await raw(base, "POST", "/hook/limited", auth, "{}")).status, 202);
    const a = await raw(base, "POST", "/hook/limited", auth, "{}");
    assert.equal(a.status, 429);
    const retry = a.headers["retry-after"] as string;
    assert.match(retry, /^[1-9]\d*$/);
    assert.ok(Number(retry) <= 60);
    assert.deepEqual(json(a), { error: `too many requests to this hook; retry after ${retry} s` });
  });

  it("streams only the tags a token may see, and nothing without a token", async () => {
    assert.equal((await raw(base, "GET", "/events")).status, 401);
    const wrong = await raw(base, "GET", "/events", { authorization: "Bearer not-a-token" });
    assert.equal(wrong.status, 401);
    assert.deepEqual(json(wrong), { error: "missing or invalid bearer token" });

    const u = new URL(base);
    let text = "";
    const connected = new Latch();
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: "/events?tag=salt/*",
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      },
      (res) => {
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
          if (text.startsWith(": connected\n\n")) connected.open();
        });
      },
    );
    req.on("error", () => undefined);
    req.end();
    await connected.wait(10_000, "the stream to open");
    const allowed = createEvent({ tag: "salt/beacon/web1/load/", data: { "1m": 2 }, source: "web1" });
    const other = createEvent({ tag: "salt/auth", data: { id: "web1", act: "pend" } });
    const outside = createEvent({ tag: "myco/other", data: {} });
    const marker = createEvent({ tag: "salt/beacon/web1/marker", data: {} });
    for (const e of [allowed, other, outside, marker]) await pub.publish(e);
    await waitFor(() => text.includes(marker.id), { what: "the marker on the stream" });
    const messages = text.split("\n\n").filter((m) => m.startsWith("event: "));
    assert.deepEqual(
      messages.map((m) => m.split("\n")[0]),
      ["event: salt/beacon/web1/load/", "event: salt/beacon/web1/marker"],
    );
    const first = JSON.parse(messages[0]!.split("\n")[1]!.slice("data: ".length)) as Record<string, unknown>;
    assert.deepEqual(first, {
      tag: allowed.tag,
      data: allowed.data,
      id: allowed.id,
      stamp: allowed.stamp,
      source: "web1",
    });

    assert.equal(openStreams, 1);
    req.destroy();
    await waitFor(() => openStreams === 0, { what: "the stream's consumer to stop" });
  });

  it("exposes the engine's counters, consumer lag, handling latency and HTTP answers on /metrics", async () => {
    const ev = createEvent({ tag: "myco/echo/metrics", data: { hosts: ["web1", "db1"], text: "m" } });
    await pub.publish(ev);
    await waitFor(() => service.engine.counters.dispatched >= 2, { what: "two dispatched reactions" });
    web.metrics!.observeHandling(0.02);
    const metric = (text: string, name: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(name.length + 1));
    };
    const scrape = async () => {
      const a = await raw(web.metricsServer!.url, "GET", "/metrics");
      assert.equal(a.status, 200);
      assert.match(String(a.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      return a.text;
    };
    // The engine keeps working (audit events): wait for a scrape that agrees with the counters read right after it.
    const text = await waitFor(
      async () => {
        const t = await scrape();
        const c = service.engine.counters;
        const same =
          metric(t, "reactor_events_received_total") === c.received &&
          metric(t, "reactor_events_matched_total") === c.matched &&
          metric(t, 'reactor_reactions_total{result="dispatched"}') === c.dispatched &&
          metric(t, 'reactor_reactions_total{result="failed"}') === c.failed &&
          metric(t, "reactor_reactions_throttled_total") === c.throttled &&
          metric(t, "reactor_render_errors_total") === c.renderErrors &&
          metric(t, "reactor_reactions_duplicate_total") === c.duplicates &&
          metric(t, "reactor_events_rejected_total") === c.rejected;
        return same ? t : undefined;
      },
      { what: "metrics that agree with the engine's counters" },
    );
    assert.ok(metric(text, "reactor_events_received_total")! >= 1);
    assert.ok(metric(text, 'reactor_reactions_total{result="dispatched"}')! >= 2);
    assert.equal(metric(text, "reactor_event_handling_seconds_count"), 1);
    assert.equal(metric(text, 'reactor_event_handling_seconds_bucket{le="0.025"}'), 1);
    assert.equal(metric(text, 'reactor_event_handling_seconds_bucket{le="0.01"}'), 0);
    assert.equal(typeof metric(text, "reactor_consumer_lag_messages"), "number");
    assert.equal(metric(text, "reactor_consumer_lag_errors_total"), 0);
    assert.ok(metric(text, 'reactor_http_requests_total{route="hook",status="202"}')! >= 4);
    assert.equal(metric(text, 'reactor_http_requests_total{route="hook",status="429"}'), 1);
    assert.equal(typeof metric(text, "process_cpu_user_seconds_total"), "number");
  });
});
