import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { compileHttpConfig, parseListen, parseYaml } from "../../src/config/index.js";
import { createEvent, NetapiError } from "../../src/core/index.js";
import {
  hookPath,
  RateLimiter,
  safeEqual,
  signBody,
  sseMessage,
  verifySignature,
} from "../../src/netapi/index.js";

const compile = (text: string, env: Record<string, string> = {}) => {
  const src = parseYaml(text, "reactor.yaml");
  return compileHttpConfig((src.value as Record<string, unknown>)["http"], src, ["http"], env);
};
const SECRET = "0123456789abcdef-secret";

describe("compileHttpConfig", () => {
  it("fills the defaults and resolves ${ENV} secrets", () => {
    const { config, errors } = compile(
      `http:\n  listen: 127.0.0.1:8080\n  hooks:\n    deploy: { token: "\${HOOK_TOKEN}" }\n    github/*: { hmac: { secret: ${SECRET} } }\n  tokens:\n    ops: { token: ${SECRET}, tags: ['salt/beacon/*'] }\n`,
      { HOOK_TOKEN: "from-the-environment-1234" },
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(config, {
      listen: "127.0.0.1:8080",
      hooks: [
        { path: "deploy", token: "from-the-environment-1234" },
        { path: "github/*", hmac: { secret: SECRET, header: "x-hub-signature-256", algorithm: "sha256" } },
      ],
      max_body: 1024 * 1024,
      rate_limit: { per_minute: 60, burst: 10 },
      tokens: [{ name: "ops", token: SECRET, tags: ["salt/beacon/*"] }],
      heartbeat: 15,
    });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config!.hooks[1]!.hmac));
  });

  it("is off when the section is absent", () => {
    assert.deepEqual(compile("nats: {}\n"), { config: undefined, errors: [] });
  });

  it("reports every problem with file, line and field path, never the secret", () => {
    const { config, errors } = compile(
      [
        "http:",
        "  listen: localhost",
        "  max_body: lots",
        "  hooks:",
        "    open: {}",
        "    ../etc: { token: " + SECRET + " }",
        "    short: { token: abc }",
        "    env: { token: '${NOPE}' }",
        "    signed: { hmac: { secret: " + SECRET + ", algorithm: md5 } }",
        "  tokens:",
        "    ops: { token: " + SECRET + " }",
        "  bogus: 1",
      ].join("\n"),
    );
    assert.equal(config, undefined);
    assert.deepEqual(
      errors.map((e) => e.message),
      [
        "reactor.yaml:12: http.bogus is not a known field (known: listen, hooks, max_body, rate_limit, tokens, heartbeat)",
        'reactor.yaml:2: http.listen must be host:port, got "localhost"',
        "reactor.yaml:5: http.hooks.open needs `token:` or `hmac:` (hooks without authentication are not served)",
        "reactor.yaml:6: http.hooks.../etc is not a valid hook path: segments of letters, digits, `.`, `_`, `-` and glob characters, none empty, `.` or `..`",
        "reactor.yaml:7: http.hooks.short.token must be at least 16 characters long",
        "reactor.yaml:8: http.hooks.env.token names the environment variable NOPE, which is not set",
        'reactor.yaml:9: http.hooks.signed.hmac.algorithm must be one of sha256, sha1, sha512, got "md5"',
        'reactor.yaml:3: http.max_body must be a positive size such as 512KiB, 1MiB, 1GiB or a number of bytes, got "lots"',
        "reactor.yaml:11: http.tokens.ops.tags must list the tag globs this token may watch (e.g. ['salt/beacon/*'])",
      ],
    );
    assert.ok(errors.every((e) => !e.message.includes(SECRET)));
  });

  it("parses listen addresses", () => {
    assert.deepEqual(parseListen("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseListen("[::1]:9090"), { host: "::1", port: 9090 });
    assert.deepEqual(parseListen(":8080"), { host: "0.0.0.0", port: 8080 });
    assert.equal(parseListen("127.0.0.1:70000"), undefined);
    assert.equal(parseListen("8080"), undefined);
  });
});

describe("hook paths", () => {
  it("accepts safe segments", () => {
    assert.equal(hookPath("/hook/github/push-1.v2_x?ref=main"), "github/push-1.v2_x");
  });
  for (const bad of [
    "/hook/",
    "/hook/a//b",
    "/hook/../x",
    "/hook/a/..",
    "/hook/.",
    "/hook/a%2Fb",
    "/hook/%2e%2e",
    "/hook/a b",
    "/hook/a/",
  ]) {
    it(`refuses ${bad} with 400`, () => {
      assert.throws(
        () => hookPath(bad),
        (e: unknown) =>
          e instanceof NetapiError && e.status === 400 && e.message.startsWith("invalid hook path "),
      );
    });
  }
});

describe("signatures and tokens", () => {
  const body = Buffer.from('{"ref":"main"}');
  it("verifies GitHub-style sha256 signatures, prefixed or bare", () => {
    const sig = signBody(body, SECRET);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifySignature(body, sig, SECRET, "sha256"), true);
    assert.equal(verifySignature(body, sig.slice(7).toUpperCase(), SECRET, "sha256"), true);
  });
  it("refuses a wrong, truncated, missing or differently keyed signature", () => {
    const sig = signBody(body, SECRET);
    assert.equal(verifySignature(Buffer.from('{"ref":"evil"}'), sig, SECRET, "sha256"), false);
    assert.equal(verifySignature(body, sig.slice(0, -2), SECRET, "sha256"), false);
    assert.equal(verifySignature(body, undefined, SECRET, "sha256"), false);
    assert.equal(verifySignature(body, "sha256=zz", SECRET, "sha256"), false);
    assert.equal(verifySignature(body, signBody(body, "another-secret-of-length"), SECRET, "sha256"), false);
    assert.equal(verifySignature(body, signBody(body, SECRET, "sha1"), SECRET, "sha256"), false);
  });
  it("compares tokens of any length", () => {
    assert.equal(safeEqual("abc", "abc"), true);
    assert.equal(safeEqual("abc", "abcd"), false);
    assert.equal(safeEqual("", "x"), false);
  });
});

describe("RateLimiter", () => {
  it("allows a burst, then refuses with the seconds until the next token", () => {
    let now = 1_000_000;
    const rl = new RateLimiter(60, 3, 100, () => now);
    for (let i = 0; i < 3; i++) assert.deepEqual(rl.take("a"), { ok: true });
    assert.deepEqual(rl.take("a"), { ok: false, retryAfterS: 1 });
    assert.deepEqual(rl.take("b"), { ok: true }, "keys are independent");
    now += 1000;
    assert.deepEqual(rl.take("a"), { ok: true });
    assert.deepEqual(rl.take("a"), { ok: false, retryAfterS: 1 });
  });
  it("says how long to wait at a slow rate", () => {
    const now = 0;
    const rl = new RateLimiter(6, 1, 100, () => now);
    assert.deepEqual(rl.take("a"), { ok: true });
    assert.deepEqual(rl.take("a"), { ok: false, retryAfterS: 10 });
  });
  it("bounds the number of keys", () => {
    const rl = new RateLimiter(60, 1, 2, () => 0);
    for (const k of ["a", "b", "c", "d"]) rl.take(k);
    assert.equal(rl.size, 2);
  });
});

describe("sseMessage", () => {
  it("names the tag as the SSE event and carries the event as JSON", () => {
    const ev = createEvent({
      tag: "salt/beacon/web1/load/",
      data: { "1m": 3 },
      id: "e1",
      stamp: "2024-01-01T00:00:00.000Z",
      source: "web1",
    });
    assert.equal(
      sseMessage(ev),
      'event: salt/beacon/web1/load/\ndata: {"tag":"salt/beacon/web1/load/","data":{"1m":3,"_stamp":"2024-01-01T00:00:00.000Z"},"id":"e1","stamp":"2024-01-01T00:00:00.000Z","source":"web1"}\n\n',
    );
  });
});
