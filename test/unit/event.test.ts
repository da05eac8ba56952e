import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { checkJsonDepth, createEvent, EventTooLargeError, InvalidEventError, ReportWindow } from "../../src/core/index.js";
import { decodeEvent, encodeEvent, kvKey, kvKeyParts } from "../../src/bus/index.js";

describe("event model", () => {
  it("stamps events and keeps the stamp in data as Salt does", () => {
    const ev = createEvent({ tag: "my/tag", data: { a: 1 }, stamp: new Date("2026-01-02T03:04:05.006Z") });
    assert.equal(ev.stamp, "2026-01-02T03:04:05.006Z");
    assert.deepEqual(ev.data, { a: 1, _stamp: "2026-01-02T03:04:05.006Z" });
    assert.equal(ev.depth, 0);
    assert.match(ev.id, /^[0-9a-f-]{36}$/);
  });

  it("rejects data that is not an object", () => {
    assert.throws(() => createEvent({ tag: "t", data: [1] }), new InvalidEventError("data must be a JSON object, got an array", { kind: "not-object" }));
    assert.throws(() => createEvent({ tag: "t", data: "x" }), /data must be a JSON object, got a string/);
    assert.throws(() => createEvent({ tag: "t", data: null }), /got null/);
  });

  it("rejects deep nesting", () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100; i++) deep = deep["x"] = {};
    assert.throws(() => createEvent({ tag: "t", data: root }), /nested deeper than 64 levels/);
  });

  it("refuses too-deep JSON text before parsing it, counting only brackets outside strings", () => {
    const ok = "[".repeat(63) + "{}" + "]".repeat(63);
    checkJsonDepth(ok);
    assert.throws(() => checkJsonDepth("[".repeat(65) + "]".repeat(65)), (e: unknown) => e instanceof InvalidEventError && e.kind === "too-deep");
    // brackets inside strings (and escaped quotes) are not nesting
    checkJsonDepth(JSON.stringify({ s: "[".repeat(1000), t: '\\"[[[[' }));
    const big = "[".repeat(1 << 20);
    assert.throws(() => checkJsonDepth(big), /nested deeper than 64 levels/);
  });
});

describe("report window", () => {
  it("reports the first occurrences of a window one by one and sums up the rest by kind and source", () => {
    let t = 0;
    const w = new ReportWindow({ detailed: 2, windowMs: 1000, maxSources: 2, now: () => t });
    assert.deepEqual([w.note("a", "s1"), w.note("a", "s1"), w.note("a", "s1"), w.note("b", "s2"), w.note("b", "s3")], [true, true, false, false, false]);
    assert.deepEqual(w.drain(), { count: 3, by_kind: { a: 1, b: 2 }, by_source: { s1: 1, s2: 1, other: 1 }, first_at: new Date(0).toISOString(), last_at: new Date(0).toISOString() });
    assert.equal(w.drain(), undefined);
    t = 1000;
    assert.equal(w.note("a"), true, "a new window reports one by one again");
  });
});

describe("wire codec", () => {
  const ev = createEvent({ tag: "salt/beacon/web01.example.com/inotify//etc/nginx/nginx.conf", data: { path: "/etc/nginx/nginx.conf" }, source: "web01.example.com", causationId: "c1", depth: 2 });

  it("round-trips an event", () => {
    const enc = encodeEvent(ev, 1024);
    const back = decodeEvent(enc.subject, enc.headers, enc.payload, 1024);
    assert.deepEqual(back, ev);
  });

  it("rejects an event over the size limit instead of truncating", () => {
    const big = createEvent({ tag: "t", data: { s: "x".repeat(2000) } });
    assert.throws(() => encodeEvent(big, 1024), EventTooLargeError);
    const enc = encodeEvent(big, 1 << 20);
    assert.throws(() => decodeEvent(enc.subject, enc.headers, enc.payload, 1024), /over the limit of 1024 bytes/);
  });

  it("rejects bad payloads and headers with the reason", () => {
    const enc = encodeEvent(ev, 1024);
    const bad = (payload: string | Uint8Array) => typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    assert.throws(() => decodeEvent(enc.subject, enc.headers, bad("{nope"), 1024), /payload is not valid JSON/);
    assert.throws(() => decodeEvent(enc.subject, enc.headers, bad("[1]"), 1024), /data must be a JSON object, got an array/);
    assert.throws(() => decodeEvent(enc.subject, enc.headers, new Uint8Array([0x7b, 0xff, 0x7d]), 1024), /not valid UTF-8/);
    assert.throws(() => decodeEvent(enc.subject, undefined, enc.payload, 1024), /no Reactor-Tag header/);
    assert.throws(() => decodeEvent("evt.other", enc.headers, enc.payload, 1024), /header does not match the subject/);
  });
});

describe("KV keys", () => {
  it("escape ids with dots and round-trip", () => {
    assert.equal(kvKey("web01.example.com", "network.ip_addrs"), "web01=2Eexample=2Ecom.network=2Eip_addrs");
    assert.deepEqual(kvKeyParts(kvKey("a.b", "", "é=x")), ["a.b", "", "é=x"]);
  });
});
