import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileTagGlob, explainGlobMismatch, fnmatchToRegExpSource } from "../../src/core/glob/index.js";
import { GlobSyntaxError } from "../../src/core/errors.js";

/** [pattern, tag, expected] under Salt's fnmatch semantics (Python fnmatch.fnmatchcase). */
const FNMATCH_TABLE: readonly [string, string, boolean][] = [
  ["salt/minion/*/start", "salt/minion/web1/start", true],
  ["salt/minion/*/start", "salt/minion/a/b/start", true], // * crosses /
  ["salt/minion/*/start", "salt/minion//start", true], // * matches empty
  ["salt/minion/*/start", "salt/minion/web1/start/x", false], // anchored at the end
  ["minion/*/start", "salt/minion/web1/start", false], // anchored at the start
  ["salt/auth", "salt/auth", true],
  ["salt/auth", "salt/auth/x", false],
  ["salt/auth", "Salt/auth", false], // case-sensitive
  ["salt/*", "SALT/x", false],
  ["salt/?", "salt/a", true],
  ["salt/?", "salt/ab", false],
  ["salt/?", "salt/", false],
  ["salt/?", "salt/é", true], // one code point
  ["web[0-9]", "web7", true],
  ["web[0-9]", "weba", false],
  ["web[!0-9]", "weba", true],
  ["web[!0-9]", "web7", false],
  ["web[abc]", "webb", true],
  ["web[]]", "web]", true], // ] first in a set is literal
  ["web[!]]", "webx", true],
  ["web[!]]", "web]", false],
  ["web[", "web[", true], // unclosed [ is literal
  ["web[x", "web[x", true],
  ["a.b", "a.b", true],
  ["a.b", "axb", false], // . is literal
  ["a+b(c)|d$^", "a+b(c)|d$^", true],
  ["a\\b", "a\\b", true], // backslash is literal in fnmatch
  ["*", "", true],
  ["*", "line1\nline2", true],
  ["a*b*c", "aXbYc", true],
  ["a*b*c", "aXbY", false],
  ["salt/beacon/*/inotify//etc/*", "salt/beacon/w/inotify//etc/nginx/nginx.conf", true],
  ["[a-]", "-", true],
  ["[z-a]x", "zx", false], // empty range matches nothing (Python 3.9+)
  ["[^a]", "^", true], // ^ is not negation in fnmatch
  ["[^a]", "b", false],
  ["/", "/", true],
];

void describe("compileTagGlob fnmatch", () => {
  for (const [pattern, tag, expected] of FNMATCH_TABLE) {
    void it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(tag)}`, () => {
      assert.equal(compileTagGlob(pattern, "fnmatch").test(tag), expected);
    });
  }

  void it("gives the literal prefix before the first wildcard", () => {
    assert.equal(compileTagGlob("salt/minion/*/start").literalPrefix, "salt/minion/");
    assert.equal(compileTagGlob("salt/beacon/web?/x").literalPrefix, "salt/beacon/web");
    assert.equal(compileTagGlob("salt/[ab]").literalPrefix, "salt/");
    assert.equal(compileTagGlob("*/start").literalPrefix, "");
    assert.equal(compileTagGlob("salt/auth").literalPrefix, "salt/auth");
    assert.equal(compileTagGlob("salt/auth").literal, true);
    assert.equal(compileTagGlob("salt/*").literal, false);
  });

  void it("gives the literal suffix after the last wildcard", () => {
    assert.equal(compileTagGlob("salt/beacon/*/service/nginx").literalSuffix, "/service/nginx");
    assert.equal(compileTagGlob("salt/minion/*").literalSuffix, "");
    assert.equal(compileTagGlob("web[0-9]x").literalSuffix, "x");
    assert.equal(compileTagGlob("salt/auth").literalSuffix, "salt/auth");
    assert.equal(compileTagGlob("salt/*/x", "path").literalSuffix, "");
  });

  void it("translates to an anchored regexp", () => {
    assert.equal(fnmatchToRegExpSource("a*[!b]?"), "^a[^]*[^b][^]$");
  });
});

void describe("compileTagGlob path", () => {
  const table: readonly [string, string, boolean][] = [
    ["salt/minion/*/start", "salt/minion/web1/start", true],
    ["salt/minion/*/start", "salt/minion/a/b/start", false], // * stays in its segment
    ["salt/**/start", "salt/minion/a/b/start", true],
    ["salt/{minion,auth}/*", "salt/auth/x", true],
    ["salt/{minion,auth}/*", "salt/key/x", false],
    ["salt/beacon/*/.hidden", "salt/beacon/w/.hidden", true],
    ["salt/#x", "salt/#x", true],
    ["!salt/x", "!salt/x", true],
    ["Salt/*", "salt/x", false],
  ];
  for (const [pattern, tag, expected] of table) {
    void it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(tag)}`, () => {
      assert.equal(compileTagGlob(pattern, "path").test(tag), expected);
    });
  }

  void it("gives the literal prefix before the first special character", () => {
    assert.equal(compileTagGlob("salt/{a,b}/x", "path").literalPrefix, "salt/");
    assert.equal(compileTagGlob("salt/**", "path").literalPrefix, "salt/");
    assert.equal(compileTagGlob("salt/x", "path").literalPrefix, "salt/x");
  });
});

void describe("explainGlobMismatch", () => {
  void it("names the first literal segment that differs", () => {
    const g = compileTagGlob("salt/minion/*/start");
    assert.equal(explainGlobMismatch(g, "salt/beacon/web1/start"), 'segment 2 "beacon" does not match "minion"');
  });
  void it("names a partial segment before a wildcard", () => {
    const g = compileTagGlob("salt/beacon/web*/x");
    assert.equal(explainGlobMismatch(g, "salt/beacon/db1/x"), 'segment 3 "db1" does not match "web..."');
  });
  void it("reports a tag that is too short", () => {
    const g = compileTagGlob("salt/minion/*/start");
    assert.equal(explainGlobMismatch(g, "salt"), 'tag "salt" has only 1 segment(s)');
  });
  void it("reports a mismatch after the literal prefix", () => {
    const g = compileTagGlob("salt/minion/*/start");
    assert.equal(
      explainGlobMismatch(g, "salt/minion/web1/stop"),
      'tag "salt/minion/web1/stop" does not match the rest of "salt/minion/*/start" after "salt/minion/"',
    );
  });
});

void describe("GlobSyntaxError", () => {
  void it("has a stable code and message", () => {
    const err = new GlobSyntaxError("x[", "bad");
    assert.equal(err.code, "E_GLOB");
    assert.equal(err.message, 'invalid glob "x[": bad');
  });
});
