import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { builtinStateModules, formatHighstate, runChunks, type LowChunk } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

function low(id: string, fun: string, extra: Record<string, unknown> = {}): LowChunk {
  return { state: "test", fun, name: id, __id__: id, __sls__: "t", __env__: "base", ...extra };
}

/** A run with a clock that advances 1.5 ms per reading, from 01:02:03 UTC. */
async function smallRun(test = false) {
  let t = Date.UTC(2026, 11, 5, 1, 2, 3);
  const { ctx } = makeStateContext();
  return runChunks(
    [
      low("a", "succeed_with_changes"),
      low("b", "nop", { name: "bee" }),
      low("c", "fail_without_changes", { comment: "Failure!\nsecond line" }),
    ],
    {
      modules: builtinStateModules(),
      ctx,
      test,
      now: () => (t += 1.5) - 1.5,
    },
  );
}

const SALT_TEXT = [
  "local:",
  "----------",
  "          ID: a",
  "    Function: test.succeed_with_changes",
  "      Result: True",
  "     Comment: Success!",
  "     Started: 01:02:03.000000",
  "    Duration: 1.5 ms",
  "     Changes:   ",
  "              ----------",
  "              testing:",
  "                  ----------",
  "                  new:",
  "                      Something pretended to change",
  "                  old:",
  "                      Unchanged",
  "----------",
  "          ID: b",
  "    Function: test.nop",
  "        Name: bee",
  "      Result: True",
  "     Comment: Success!",
  "     Started: 01:02:03.003000",
  "    Duration: 1.5 ms",
  "     Changes:   ",
  "----------",
  "          ID: c",
  "    Function: test.fail_without_changes",
  "      Result: False",
  "     Comment: Failure!",
  "              second line",
  "     Started: 01:02:03.006000",
  "    Duration: 1.5 ms",
  "     Changes:   ",
  "",
  "Summary for local",
  "------------",
  "Succeeded: 2 (changed=1)",
  "Failed:    1",
  "------------",
  "Total states run:     3",
  "Total run time:   4.500 ms",
].join("\n");

describe("highstate outputter", () => {
  it("prints a small run as Salt's highstate outputter does", async () => {
    assert.equal(formatHighstate("local", await smallRun()), SALT_TEXT);
  });

  it("test mode counts unchanged states; no colour codes unless asked", async () => {
    const text = formatHighstate("local", await smallRun(true));
    assert.match(text, /\nSucceeded: 2 \(unchanged=1, changed=1\)\nFailed:    1\n/);
    assert.match(text, /      Result: None\n/);
    assert.doesNotMatch(text, /\x1b\[/);
    assert.match(
      formatHighstate("local", await smallRun(), { color: true }),
      /\x1b\[0;31m----------\x1b\[0m/,
    );
  });

  it("state_output terse / mixed / changes print Salt's one-line form", async () => {
    const res = await smallRun();
    const terse = formatHighstate("local", res, { stateOutput: "terse", profile: false }).split("\n");
    assert.deepEqual(terse.slice(1, 4), [
      " Name: a - Function: test.succeed_with_changes - Result: Changed",
      " Name: bee - Function: test.nop - Result: Clean",
      " Name: c - Function: test.fail_without_changes - Result: Failed",
    ]);
    const mixed = formatHighstate("local", res, { stateOutput: "mixed", profile: false });
    assert.match(mixed, /^ Name: a - Function: test.succeed_with_changes - Result: Changed$/m);
    assert.match(mixed, /^          ID: c$/m);
    const changes = formatHighstate("local", res, { stateOutput: "changes", profile: false });
    assert.match(changes, /^          ID: a$/m);
    assert.match(changes, /^ Name: bee - Function: test.nop - Result: Clean$/m);
    assert.doesNotMatch(changes, /Total run time/);
  });

  it("render errors print as 'Data failed to compile'", () => {
    assert.equal(
      formatHighstate("web1", ["No matching sls found for 'x' in env 'base'"]),
      "web1:\n    Data failed to compile:\n----------\n    No matching sls found for 'x' in env 'base'",
    );
  });

  it("warnings print under the state and are counted in the summary, not as states", async () => {
    const { ctx } = makeStateContext();
    const res = await runChunks(
      [low("w", "configurable_test_state", { changes: false, warnings: "careful" })],
      { modules: builtinStateModules(), ctx },
    );
    const text = formatHighstate("local", res, { profile: false });
    assert.match(text, /\n     Changes:   \n    Warnings: careful\n/);
    assert.match(text, /\nSucceeded: 1\nFailed:    0\nWarnings:  1\n------------\nTotal states run:     1$/);
  });
});
