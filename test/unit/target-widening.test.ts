import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { compileSls, type ReactorMapEntry } from "../../src/config/index.js";
import { renderReactions } from "../../src/reactor/index.js";
import { widenedSyntax } from "../../src/core/targeting/index.js";

function entry(src: string): ReactorMapEntry {
  const file = { path: "reactors/r.sls", absPath: "/r/reactors/r.sls", sls: compileSls(src, "reactors/r.sls") };
  return { index: 0, name: "e", tag: "*", sls: [{ written: file.path, files: [file] }] } as unknown as ReactorMapEntry;
}
const run = (src: string, data: Record<string, unknown>, tag = "salt/beacon/web1/x") => renderReactions({ tag, data }, [entry(src)]);

const BY_ID = "run:\n  local.cmd.run:\n    - tgt: {{ data['id'] }}\n    - arg: [uptime]\n";
const ACCEPT = "minion_add:\n  wheel.key.accept:\n    - args:\n      - match: {{ data['id'] }}\n";

describe("a target from event data never widens", () => {
  it("keeps the author's targeting syntax and an id from the event", () => {
    assert.deepEqual(run(BY_ID, { id: "web1.example.com" }).reactions.map((r) => r.tgt), ["web1.example.com"]);
    assert.deepEqual(run("r:\n  local.test.ping:\n    - tgt: 'web*'\n", { id: "x*" }).reactions.map((r) => r.tgt), ["web*"]);
    assert.deepEqual(run("r:\n  local.test.ping:\n    - tgt: '{{ data.role }}*'\n", { role: "web" }).reactions.map((r) => r.tgt), ["web*"]);
    assert.deepEqual(run("r:\n  local.test.ping:\n    - tgt: 'G@role:{{ data.role }} and web*'\n    - tgt_type: compound\n", { role: "web" }).reactions.map((r) => r.tgt), ["G@role:web and web*"]);
    assert.equal(run(ACCEPT, { id: "web1" }).reactions.length, 1);
  });

  it("refuses glob, list and compound syntax that came from event data, naming file and field", () => {
    for (const id of ["*", "web*", "web,*", "web[0-9]"]) {
      const r = run(BY_ID, { id });
      assert.equal(r.reactions.length, 0, id);
      assert.equal(r.widened.length, 1, id);
      assert.match(r.widened[0]!.message, /^run\.local\.cmd\.run\.tgt .* refused: ".*" at position \d+ comes from event data/, id);
      assert.equal(r.widened[0]!.file, "reactors/r.sls");
    }
    assert.equal(run("r:\n  local.test.ping:\n    - tgt: '{{ data.ids }}'\n    - tgt_type: list\n", { ids: "web1,db1" }).reactions.length, 0);
    assert.equal(run("r:\n  local.test.ping:\n    - tgt: 'G@role:{{ data.role }}'\n    - tgt_type: compound\n", { role: "web or *" }).reactions.length, 0);
    assert.equal(run("r:\n  local.test.ping:\n    - tgt: '{{ data.t }}'\n    - tgt_type: '{{ data.tt }}'\n", { t: "web1.example.com", tt: "pcre" }).reactions.length, 0);
    assert.equal(run("r:\n  local.test.ping:\n    - tgt: {{ tag.split('/')[2] }}\n", {}, "custom/x/*").reactions.length, 0);
  });

  it("refuses a key glob from event data in wheel key functions (the auto-accept reactor)", () => {
    for (const id of ["*", "web,*", "w?b1"]) {
      const r = run(ACCEPT, { id });
      assert.equal(r.reactions.length, 0, id);
      assert.match(r.widened[0]!.message, /^minion_add\.wheel\.key\.accept\.match .* \(key-glob\) refused/);
    }
    const other = run(ACCEPT + "ping:\n  local.test.ping:\n    - tgt: web1\n", { id: "*" });
    assert.deepEqual(other.reactions.map((r) => r.id), ["ping"], "only the widened reaction is dropped");
  });

  it("refuses when event syntax changes the template's path and brings more syntax", () => {
    const src = "r:\n  local.test.ping:\n{% if '*' in data.id %}    - tgt: '{{ data.id }}*'\n{% else %}    - tgt: {{ data.id }}\n{% endif %}";
    assert.equal(run(src, { id: "a*" }).reactions.length, 0);
    assert.equal(widenedSyntax("web*", "web*", "glob"), undefined);
    assert.equal(widenedSyntax("web1.x", "web1_x", "glob"), undefined, "'.' is not glob syntax");
    assert.match(widenedSyntax("web1.x", "web1_x", "pcre") ?? "", /"\." at position 5/);
  });
});
