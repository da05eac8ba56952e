import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { TargetSyntaxError } from "../../src/core/errors.js";
import { describeTarget, formatTargetNode, matchTargets, parseCompound, type MinionRecord } from "../../src/core/targeting/index.js";

const MINIONS: MinionRecord[] = [
  { id: "web1.example.com", grains: { os: "Debian", roles: ["web", "lb"], osrelease: 12, virtual: true, ip4: { eth0: "10.0.0.1" } } },
  { id: "web2.example.com", grains: { os: "Ubuntu", roles: ["web"], osrelease: 22, virtual: false, ip4: { eth0: "10.0.0.2" } } },
  { id: "db1.example.com", grains: { os: "Debian", roles: ["db"], osrelease: 12, virtual: false, ip4: { eth0: "10.0.1.1" } } },
  { id: "Web3", grains: { os: "Debian", roles: "web", ip4: { eth0: "10.0.0.3" }, url: "http://web3:8080/" } },
];

const ids = (tgt: string | string[], type: Parameters<typeof matchTargets>[1]) => matchTargets(tgt, type, MINIONS);

describe("glob targets (Salt fnmatch on ids)", () => {
  it("matches case-sensitively, anchored, and sorts", () => {
    assert.deepEqual(ids("web*", "glob"), ["web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("*", "glob"), ["Web3", "db1.example.com", "web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("web[12].*.com", "glob"), ["web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("web1", "glob"), []);
    assert.deepEqual(ids("[!w]*", "glob"), ["Web3", "db1.example.com"]);
  });
});

describe("pcre targets", () => {
  it("anchors at the start only, like Python re.match", () => {
    assert.deepEqual(ids("web\\d", "pcre"), ["web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("example", "pcre"), []);
    assert.deepEqual(ids(".*example\\.com$", "pcre"), ["db1.example.com", "web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("(?P<kind>web|db)1", "pcre"), ["db1.example.com", "web1.example.com"]);
  });

  it("reports a bad regex with its position", () => {
    assert.throws(
      () => ids("web(", "pcre"),
      (err: unknown) => err instanceof TargetSyntaxError && err.position === 1 && err.message.startsWith('invalid target "web(" at position 1: bad regular expression: '),
    );
  });
});

describe("list targets", () => {
  it("takes a comma string or an array, exact ids", () => {
    assert.deepEqual(ids("db1.example.com, web2.example.com,nope", "list"), ["db1.example.com", "web2.example.com"]);
    assert.deepEqual(ids(["Web3", "web*"], "list"), ["Web3"]);
  });
});

describe("grain targets", () => {
  it("globs the value case-insensitively; list grains match any element", () => {
    assert.deepEqual(ids("os:debian", "grain"), ["Web3", "db1.example.com", "web1.example.com"]);
    assert.deepEqual(ids("os:Ub*", "grain"), ["web2.example.com"]);
    assert.deepEqual(ids("roles:lb", "grain"), ["web1.example.com"]);
    assert.deepEqual(ids("roles:web", "grain"), ["Web3", "web1.example.com", "web2.example.com"]);
  });

  it("follows nested keys, compares Python's str() of scalars, and tries every split of the colons", () => {
    assert.deepEqual(ids("ip4:eth0:10.0.0.*", "grain"), ["Web3", "web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("osrelease:12", "grain"), ["db1.example.com", "web1.example.com"]);
    assert.deepEqual(ids("virtual:True", "grain"), ["web1.example.com"]);
    assert.deepEqual(ids("ip4:eth0", "grain"), ["Web3", "db1.example.com", "web1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("url:http://web3:80*", "grain"), ["Web3"]);
  });

  it("matches nothing for a missing grain or an expression without a colon", () => {
    assert.deepEqual(ids("kernel:Linux", "grain"), []);
    assert.deepEqual(ids("os", "grain"), []);
  });
});

describe("compound targets", () => {
  it("combines engines", () => {
    assert.deepEqual(ids("G@os:Debian and web*", "compound"), ["web1.example.com"]);
    assert.deepEqual(ids("L@db1.example.com,Web3 or E@web2", "compound"), ["Web3", "db1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("P@os:(deb|ubu) and not G@roles:db", "compound"), ["Web3", "web1.example.com", "web2.example.com"]);
  });

  it("gives not over and over or (Python precedence)", () => {
    assert.equal(formatTargetNode(parseCompound("a or b and not c")), "(a or (b and (not c)))");
    assert.deepEqual(ids("db* or web* and G@os:Ubuntu", "compound"), ["db1.example.com", "web2.example.com"]);
    assert.deepEqual(ids("( db* or web* ) and G@os:Ubuntu", "compound"), ["web2.example.com"]);
    assert.equal(formatTargetNode(parseCompound("not not a and b")), "((not (not a)) and b)");
  });

  it("reads `not` after a target as `and not`, as Salt does", () => {
    assert.equal(formatTargetNode(parseCompound("web* not G@os:Ubuntu")), "(web* and (not G@os:Ubuntu))");
    assert.deepEqual(ids("web* not G@os:Ubuntu", "compound"), ["web1.example.com"]);
    assert.equal(describeTarget("web* not G@os:Ubuntu", "compound"), "compound (web* and (not G@os:Ubuntu))");
  });

  const errors: [string, number, string][] = [
    ["", 1, "empty compound target"],
    ["and web*", 1, 'expected a target at the start, found "and"'],
    ["web* and", 9, 'expected a target after "and"'],
    ["web* or or db*", 9, 'expected a target after "or", found "or"'],
    ["( web* or db*", 1, "unbalanced parenthesis: this ( is not closed"],
    ["web* )", 6, "unbalanced parenthesis: ) without ("],
    ["( and web* )", 3, 'expected a target after "(", found "and"'],
    ["web* db*", 6, 'expected "and", "or" or ")" before "db*"'],
    ["web* and N@group", 10, "unsupported target engine N@ (supported: G@, P@, E@, L@ and bare globs)"],
    ["G@ and x", 1, "empty pattern after G@"],
    ["web* or E@db(", 11, "bad regular expression: "],
  ];
  for (const [expr, position, reason] of errors) {
    it(`rejects ${JSON.stringify(expr)} at position ${position}`, () => {
      assert.throws(
        () => ids(expr, "compound"),
        (err: unknown) => {
          assert.ok(err instanceof TargetSyntaxError, String(err));
          assert.equal(err.position, position);
          assert.equal(err.code, "E_TARGET");
          const prefix = `invalid target ${JSON.stringify(expr)} at position ${position}: ${reason}`;
          if (reason.endsWith(": ")) assert.ok(err.message.startsWith(prefix), err.message);
          else assert.equal(err.message, prefix);
          return true;
        },
      );
    });
  }
});
