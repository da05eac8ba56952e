import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { shellSplit } from "../../src/agent/index.js";
import { ExecutionError } from "../../src/core/index.js";

void describe("shellSplit", () => {
  void it("splits on blanks and honours quotes and escapes like sh, without expanding anything", () => {
    assert.deepEqual(shellSplit("  ls   -l\t/tmp "), ["ls", "-l", "/tmp"]);
    assert.deepEqual(shellSplit(`echo 'a b' "c d" e\\ f`), ["echo", "a b", "c d", "e f"]);
    assert.deepEqual(shellSplit(`echo "x \\"y\\" \\$HOME \\n" 'it''s'`), ["echo", 'x "y" $HOME \\n', "its"]);
    assert.deepEqual(shellSplit("echo $HOME | wc > out; rm *"), [
      "echo",
      "$HOME",
      "|",
      "wc",
      ">",
      "out;",
      "rm",
      "*",
    ]);
    assert.deepEqual(shellSplit(`a"b"'c'd`), ["abcd"]);
    assert.deepEqual(shellSplit(`echo '' ""`), ["echo", "", ""]);
    assert.deepEqual(shellSplit(""), []);
  });

  void it("rejects unterminated quotes and a trailing backslash", () => {
    assert.throws(
      () => shellSplit("echo 'oops"),
      new ExecutionError("unterminated single quote in command: echo 'oops"),
    );
    assert.throws(
      () => shellSplit('echo "oops'),
      new ExecutionError('unterminated double quote in command: echo "oops'),
    );
    assert.throws(() => shellSplit("echo \\"), new ExecutionError("trailing backslash in command: echo \\"));
  });
});
