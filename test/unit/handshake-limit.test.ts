import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { HandshakeGate, idPrefix } from "../../src/keys/index.js";
import { compileServiceConfig } from "../../src/config/index.js";

describe("handshake limits on new ids", () => {
  it("groups ids by their claimed prefix", () => {
    assert.equal(idPrefix("web12.example.com"), "web");
    assert.equal(idPrefix("flood-0042"), "flood");
    assert.equal(idPrefix("db"), "db");
    assert.equal(idPrefix("1234"), "1");
  });

  it("takes per prefix and globally, refills at the rate, and reports refusals at most once per period", () => {
    let now = 0;
    const gate = new HandshakeGate({ max_pending: 0, new_id_rate: 10, new_id_burst: 20, new_id_prefix_rate: 2, new_id_prefix_burst: 5 }, () => now, 5000);
    const flood = Array.from({ length: 8 }, (_, i) => gate.admit(`flood${i}`));
    assert.equal(flood.filter((r) => r === undefined).length, 5);
    assert.equal(flood[5]!.kind, "prefix-rate");
    assert.match(flood[5]!.message, /too many new ids with the prefix "flood" \(keys.new_id_prefix_rate 2\/s\)/);
    const others = Array.from({ length: 20 }, (_, i) => gate.admit(`p${i}x${i}`));
    assert.equal(others.filter((r) => r === undefined).length, 15, "the global burst of 20 is shared");
    assert.equal(others.at(-1)!.kind, "rate");
    assert.deepEqual(gate.refuse("rate", "a"), { refused: 1, by_reason: { rate: 1 }, last_id: "a" });
    assert.equal(gate.refuse("max-pending", "b"), undefined);
    now = 5000;
    assert.deepEqual(gate.refuse("rate", "c"), { refused: 2, by_reason: { "max-pending": 1, rate: 1 }, last_id: "c" });
    assert.equal(gate.admit("flood9"), undefined, "refilled after 5 s");
  });

  it("reads keys.max_pending and keys.new_id_* with defaults", () => {
    const d = compileServiceConfig("{}", "/x/reactor.yaml").keys;
    assert.deepEqual([d.max_pending, d.new_id_rate, d.new_id_burst, d.new_id_prefix_rate, d.new_id_prefix_burst], [500, 10, 200, 5, 100]);
    const c = compileServiceConfig("keys: { max_pending: 0, new_id_rate: 0 }", "/x/reactor.yaml").keys;
    assert.deepEqual([c.max_pending, c.new_id_rate], [0, 0]);
    assert.throws(() => compileServiceConfig("keys: { max_pending: -1 }", "/x/reactor.yaml"), /keys.max_pending must be an integer of at least 0/);
  });
});
