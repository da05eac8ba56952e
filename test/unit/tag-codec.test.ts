import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodeSegment,
  encodeSegment,
  InvalidSubjectError,
  InvalidTagError,
  MAX_TAG_LENGTH,
  subjectToTag,
  tagToSubject,
} from "../../src/core/index.js";

/** A NATS subject token may not be empty nor contain `.`, whitespace, `*` or `>`; we also keep it ASCII. */
const TOKEN_OK = /^[\x21-\x7e]+$/;
function assertValidSubject(subject: string) {
  for (const token of subject.split(".")) {
    assert.ok(token.length > 0, `empty token in ${subject}`);
    assert.match(token, TOKEN_OK, `token ${JSON.stringify(token)} of ${subject}`);
    assert.ok(!/[*>\s]/.test(token), `wildcard or space in token ${JSON.stringify(token)}`);
  }
}

/** Tags without control characters or lone surrogates, as validateTag accepts them. */
const tagArb = fc
  .array(fc.oneof(fc.string(), fc.constantFrom("", "web01.example.com", "*", ">", "%", "a b", "2026-11-24T23:11:30.123Z")), {
    minLength: 1,
    maxLength: 8,
  })
  .map((segs) => segs.join("/").replace(/[\x00-\x1f\x7f]/g, "_").replace(/[\ud800-\udfff]/g, "_"))
  .filter((t) => t.length > 0 && t.length <= MAX_TAG_LENGTH);

describe("tag <-> subject codec", () => {
  const cases: [string, string][] = [
    ["salt/auth", "evt.salt.auth"],
    ["salt/minion/web01.example.com/start", "evt.salt.minion.web01%2Eexample%2Ecom.start"],
    ["salt/beacon/web1/diskusage/", "evt.salt.beacon.web1.diskusage.%"],
    ["salt/beacon/web1/inotify//etc/nginx/nginx.conf", "evt.salt.beacon.web1.inotify.%.etc.nginx.nginx%2Econf"],
    ["a b/*/>/%", "evt.a%20b.%2A.%3E.%25"],
    ["tag/é", "evt.tag.%C3%A9"],
    ["salt/job/20261124231130123456/ret/web1", "evt.salt.job.20261124231130123456.ret.web1"],
  ];
  for (const [tag, subject] of cases) {
    it(`maps ${JSON.stringify(tag)}`, () => {
      assert.equal(tagToSubject(tag), subject);
      assert.equal(subjectToTag(subject), tag);
    });
  }

  it("round-trips every tag and never emits a forbidden token (property)", () => {
    fc.assert(
      fc.property(tagArb, (tag) => {
        const subject = tagToSubject(tag);
        assertValidSubject(subject);
        assert.equal(subjectToTag(subject), tag);
      }),
      { numRuns: 3000 },
    );
  });

  it("is injective: different tags never share a subject (property)", () => {
    fc.assert(
      fc.property(tagArb, tagArb, (a, b) => {
        if (a !== b) assert.notEqual(tagToSubject(a), tagToSubject(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips single segments of any unicode (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (seg) => {
        assert.equal(decodeSegment(encodeSegment(seg)), seg);
      }),
    );
  });

  it("accepts only the canonical encoding when decoding", () => {
    assert.throws(() => subjectToTag("evt.a%2e"), InvalidSubjectError); // lower-case hex
    assert.throws(() => subjectToTag("evt.%61"), /needless escape %61/); // 'a' escaped
    assert.throws(() => subjectToTag("evt.a b"), /character " " is not encoded/);
    assert.throws(() => subjectToTag("evt.%C3"), /not valid UTF-8/);
    assert.throws(() => subjectToTag("other.a"), /does not start with evt\./);
    assert.throws(() => subjectToTag("evt.a..b"), /empty token/);
  });

  it("rejects unusable tags with the reason", () => {
    assert.throws(() => tagToSubject(""), new InvalidTagError("", "a tag must not be empty"));
    assert.throws(() => tagToSubject("a\nb"), /invalid tag "a\\nb": control character U\+000A at position 1/);
    assert.throws(() => tagToSubject("x".repeat(10_000)), /a tag must be at most 2048 characters, this one has 10000/);
    assert.throws(() => tagToSubject("a\ud800"), /lone surrogate at position 1/);
  });
});
