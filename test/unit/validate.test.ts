import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runValidate } from "../../src/cli/commands/validate.js";
import { repoRoot } from "../helpers/paths.js";

describe("reactor validate with agent and beacons files", () => {
  const root = repoRoot();

  it("passes on the examples: the reactor map, agent.yaml and the beacons file it names", async () => {
    const out: string[] = [];
    const code = await runValidate({ config: join(root, "reactors/reactor.yaml"), agent: [join(root, "examples/agent.yaml")] }, (s) => out.push(s));
    assert.equal(code, 0, out.join("\n"));
  });

  it("names file, line and field of a bad beacon and of a bad agent field, and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-validate-"));
    await writeFile(join(dir, "beacons.yaml"), "beacons:\n  diskusage:\n    - '/': lots\n  load:\n    - interval: 0\n");
    await writeFile(join(dir, "agent.yaml"), "id: web1\nstate_dir: /tmp/x\nservices:\n  web:\n    check: nope\n");
    const out: string[] = [];
    const code = await runValidate(
      { config: join(root, "reactors/reactor.yaml"), agent: [join(dir, "agent.yaml")], beacons: [join(dir, "beacons.yaml")] },
      (s) => out.push(s),
    );
    assert.equal(code, 1);
    const text = out.join("\n");
    assert.match(text, new RegExp(`error: ${join(dir, "agent.yaml")}:5: services\\.web\\.check must be a non-empty list of strings`));
    assert.match(text, new RegExp(`error: ${join(dir, "beacons.yaml")}:3: beacons\\.diskusage`));
    assert.match(text, new RegExp(`error: ${join(dir, "beacons.yaml")}:5: beacons\\.load`));
  });
});
