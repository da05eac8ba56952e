import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileTagGlob, type GlobMode } from "../../src/core/glob/index.js";
import { compileCondition } from "../../src/core/conditions/index.js";
import { MapIndex, type MatchableEntry } from "../../src/reactor/index.js";

const entry = (index: number, pattern: string, mode: GlobMode = "fnmatch", when?: unknown): MatchableEntry => ({
  index,
  glob: compileTagGlob(pattern, mode),
  ...(when !== undefined ? { when: compileCondition(when) } : {}),
});

const linear = (entries: readonly MatchableEntry[], tag: string, data: Record<string, unknown> = {}) =>
  entries.filter((e) => e.glob.test(tag) && (e.when === undefined || e.when.test({ tag, data })));

// Small alphabets so that random globs and tags often meet.
const seg = fc.constantFrom("salt", "minion", "beacon", "web1", "web2", "", "a", "ab", "start", "x.y");
const tagArb = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => s.join("/"));
const piece = fc.constantFrom("salt", "minion", "beacon", "web", "1", "/", "*", "?", "[!a]", "[0-9]", "a", "", "start", "**", "{a,web1}");

void describe("MapIndex", () => {
  void it("returns exactly what a linear scan returns (random globs and tags)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(piece, { maxLength: 8 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.array(tagArb, { minLength: 1, maxLength: 20 }),
        (specs, tags) => {
          const entries = specs.map(([p, path], i) => entry(i, p.join(""), path ? "path" : "fnmatch"));
          const index = new MapIndex(entries);
          for (const tag of tags) assert.deepEqual(index.match({ tag, data: {} }), linear(entries, tag));
        },
      ),
      { numRuns: 300 },
    );
  });

  void it("keeps map order and applies conditions", () => {
    const entries = [
      entry(0, "salt/minion/*/start"),
      entry(1, "*"),
      entry(2, "salt/minion/web1/start", "fnmatch", { "==": [{ var: "data.ok" }, true] }),
      entry(3, "salt/minion/web?/start"),
    ];
    const index = new MapIndex(entries);
    assert.deepEqual(index.match({ tag: "salt/minion/web1/start", data: { ok: true } }).map((e) => e.index), [0, 1, 2, 3]);
    assert.deepEqual(index.match({ tag: "salt/minion/web1/start", data: { ok: false } }).map((e) => e.index), [0, 1, 3]);
  });

  void it("visits only candidates sharing the tag's literal prefix", () => {
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i, `salt/beacon/web${i}/service/*`));
    entries.push(entry(1000, "*/start"), entry(1001, "*/nginx"), entry(1002, "salt/beacon/*/service/nginx"), entry(1003, "salt/beacon/*/apache"));
    const index = new MapIndex(entries);
    // by literal prefix (web7) and by literal suffix (nginx); */start and .../apache are never tried
    assert.deepEqual(index.candidates("salt/beacon/web7/service/nginx"), [7, 1001, 1002]);
  });

  void it("explains every entry that did not match", () => {
    const entries = [
      entry(0, "salt/minion/*/start"),
      entry(1, "salt/beacon/*/service/*", "fnmatch", { and: [{ "==": [{ var: "data.id" }, "web1"] }, { "==": [{ var: "data.running" }, false] }] }),
      entry(2, "salt/beacon/*"),
    ];
    const r = new MapIndex(entries).explain({ tag: "salt/beacon/web1/service/nginx", data: { id: "web1", running: true } });
    assert.deepEqual(r.matched.map((e) => e.index), [2]);
    assert.deepEqual(
      r.unmatched.map((u) => [u.entry.index, u.reason, u.detail]),
      [
        [0, "glob", 'segment 2 "beacon" does not match "minion"'],
        [1, "when", 'condition is false: and[1]: {"==":[{"var":"data.running"},false]} is false (values: true, false)'],
      ],
    );
  });
});
