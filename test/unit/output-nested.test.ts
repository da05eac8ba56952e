/** Salt's nested outputter: the shapes of salt/output/nested.py's docstring example and its rules. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { formatNested } from "../../src/apps/output-nested.js";

void describe("formatNested", () => {
  it("prints the docstring example of salt/output/nested.py", () => {
    const ret = { myminion: { foo: { bar: "baz", dictionary: { abc: 123, def: 456 }, list: ["Hello", "World"] } } };
    const want = [
      "myminion:",
      "    ----------",
      "    foo:",
      "        ----------",
      "        bar:",
      "            baz",
      "        dictionary:",
      "            ----------",
      "            abc:",
      "                123",
      "            def:",
      "                456",
      "        list:",
      "            - Hello",
      "            - World",
    ].join("\n");
    assert.equal(formatNested(ret), want);
  });

  it("prints scalars as Python, multi-line strings line by line, nested lists under |_", () => {
    assert.equal(formatNested({ local: true }), "local:\n    True");
    assert.equal(formatNested({ local: null }), "local:\n    None");
    assert.equal(formatNested({ local: 1.5 }), "local:\n    1.5");
    assert.equal(formatNested({ local: "a\nb" }), "local:\n    a\n    b");
    assert.equal(formatNested({ local: [[1, 2], { k: "v" }, "x"] }), "local:\n    |_\n      - 1\n      - 2\n    |_\n      ----------\n      k:\n          v\n    - x");
  });
});
