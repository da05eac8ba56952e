import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { unquotedDataInCommands } from "../../src/reactor/index.js";
import { runValidate } from "../../src/cli/commands/validate.js";

const lines = (src: string) => unquotedDataInCommands(src, "r.sls").map((p) => p.line);

describe("reactor validate: event data in cmd.* command strings", () => {
  it("warns at the line where data enters a command string without | quote", () => {
    const src = [
      "list_dir:", // 1
      "  local.cmd.run:", // 2
      "    - tgt: {{ data['id'] }}", // 3
      "    - arg:", // 4
      "      - ls {{ data['dir'] }}", // 5
      "quoted:", // 6
      "  local.cmd.run:", // 7
      "    - tgt: {{ data['id'] }}", // 8
      "    - args:", // 9
      "      - cmd: ls {{ data['dir'] | quote }}", // 10
      "      - cwd: {{ data.cwd }}", // 11
      "argv:", // 12
      "  cmd.cmd.run:", // 13
      "    - tgt: web1", // 14
      "    - args:", // 15
      "      - cmd:", // 16
      "        - ls", // 17
      "        - {{ data['dir'] }}", // 18
      "        - '-l{{ data.flags }}'", // 19
      "script:", // 20
      "  local.cmd.script:", // 21
      "    - tgt: web1", // 22
      "    - args:", // 23
      "      - source: /usr/local/bin/x", // 24
      "      - args: {{ data.x }}", // 25
      "other:", // 26
      "  local.test.echo:", // 27
      "    - tgt: web1", // 28
      "    - arg: [ '{{ data.x }}' ]", // 29
    ].join("\n");
    assert.deepEqual(lines(src), [5, 19, 25]);
    assert.equal(
      unquotedDataInCommands(src, "r.sls")[0]!.message,
      "event data {{ data['dir'] }} is interpolated into the cmd.run command without | quote: spaces or quotes in the value become extra arguments (use {{ data['dir'] | quote }}, or a list cmd with one item per argument; docs/security.md)",
    );
  });

  it("is a warning of reactor validate naming file:line (exit 0)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-shell-lint-"));
    await writeFile(join(dir, "reactor.yaml"), "reactor:\n  - 'custom/ls':\n    - ls.sls\n");
    await writeFile(join(dir, "ls.sls"), "ls:\n  local.cmd.run:\n    - tgt: {{ data['id'] }}\n    - arg: [ \"ls {{ data['dir'] }}\" ]\n");
    const out: string[] = [];
    const code = await runValidate({ config: join(dir, "reactor.yaml") }, (s) => out.push(s));
    assert.equal(code, 0, out.join("\n"));
    assert.ok(out.some((l) => l.startsWith("warning: ls.sls:4: event data {{ data['dir'] }} is interpolated into the cmd.run command without | quote")), out.join("\n"));
  });
});
