/** `reactor test`: JSON outcomes, missing SLS files reported per event, `--explain` showing rendered text. */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTest, TestExit } from "../../src/cli/commands/test.js";
import { runValidate } from "../../src/cli/commands/validate.js";
import { causeText } from "../../src/apps/index.js";

let dir: string;
const MAP = "reactor:\n  - 'a/b':\n      - nope.sls\n  - 'c/d':\n      - ok.sls\n  - 'e/f':\n      - cond.sls\n  - 'g/*':\n      - ok.sls\n      - gone/*.sls\n";

async function run(tag: string | undefined, data: string | undefined, opts: Record<string, unknown>): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runTest(tag, data, { config: join(dir, "reactor.yaml"), ...opts }, (s) => lines.push(s));
  return { code, lines };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "nr-cli-test-"));
  await writeFile(join(dir, "reactor.yaml"), MAP);
  await writeFile(join(dir, "ok.sls"), "hello:\n  local.test.ping:\n    - tgt: {{ data['id'] }}\n");
  await writeFile(join(dir, "cond.sls"), "{% if data.get('act') == 'pend' %}\naccept:\n  wheel.key.accept:\n    - match: {{ data['id'] }}\n{% endif %}\n");
  await writeFile(join(dir, "syntax.yaml"), "reactor:\n  - 'x':\n    bad: [\n");
  await writeFile(join(dir, "spec.yaml"), "- tag: c/d\n  data: {id: web1}\n  expect: {reactions: [{fun: test.ping}]}\n- tag: a/b\n  expect: {none: true}\n");
});

void describe("reactor test --json: every outcome is one JSON object", () => {
  void it("a YAML syntax error of the configuration is JSON with file and line, exit 2", async () => {
    const { code, lines } = await run("x", undefined, { config: join(dir, "syntax.yaml"), json: true });
    assert.equal(code, TestExit.Errors);
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0]!) as { ok: boolean; stage: string; errors: { file: string; line: number; message: string }[] };
    assert.deepEqual([o.ok, o.stage, o.errors.length], [false, "config", 1]);
    assert.equal(o.errors[0]!.file, join(dir, "syntax.yaml"));
    assert.equal(o.errors[0]!.line, 4);
    assert.match(o.errors[0]!.message, /^YAML syntax error: /);
  });

  void it("an unreadable configuration, a missing TAG and bad data are JSON too", async () => {
    const missing = await run("x", undefined, { config: join(dir, "none.yaml"), json: true });
    assert.equal(missing.code, TestExit.Errors);
    const m = JSON.parse(missing.lines.join("")) as { stage: string; errors: { file: string; line: null; message: string }[] };
    assert.equal(m.stage, "config");
    assert.equal(m.errors[0]!.file, join(dir, "none.yaml"));
    assert.match(m.errors[0]!.message, /^cannot read the service configuration: ENOENT/);
    const usage = JSON.parse((await run(undefined, undefined, { json: true })).lines.join("")) as { stage: string; errors: { message: string }[] };
    assert.deepEqual([usage.stage, usage.errors[0]!.message], ["usage", "reactor test: give a TAG (or --spec FILE, or --replay DURATION)"]);
    const data = await run("c/d", "[1]", { json: true });
    assert.equal(data.code, TestExit.Errors);
    assert.deepEqual(JSON.parse(data.lines.join("")), { ok: false, stage: "data", errors: [{ file: null, line: null, message: "reactor test: event data must be a JSON object" }] });
  });

  void it("--spec --json prints one object with every case", async () => {
    const { code, lines } = await run(undefined, undefined, { spec: join(dir, "spec.yaml"), json: true });
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0]!) as { ok: boolean; cases: { case: number; ok: boolean }[]; passed: number; with_errors: number };
    // case 2 matches a/b, whose file is missing: an error of that case only
    assert.deepEqual([code, o.ok, o.passed, o.with_errors, o.cases.map((c) => c.ok)], [TestExit.Errors, false, 1, 1, [true, false]]);
  });
});

void describe("reactor test with a missing SLS file (as Salt: matched, error for that event only)", () => {
  void it("an event of another entry renders normally, exit 0", async () => {
    const { code, lines } = await run("c/d", '{"id":"web1"}', {});
    assert.equal(code, TestExit.Ok, lines.join("\n"));
    assert.match(lines.join("\n"), /hello: local\.test\.ping tgt="web1"/);
  });

  void it("the event that needs the file matches, and gets a per-file error", async () => {
    const { code, lines } = await run("a/b", "{}", { json: true });
    assert.equal(code, TestExit.Errors);
    const r = JSON.parse(lines.join("")) as { matches: unknown[]; errors: unknown[] };
    assert.deepEqual(r.matches, [{ glob: "a/b", sls: ["nope.sls"] }]);
    assert.deepEqual(r.errors, [{ file: "nope.sls", line: null, message: `file missing or not found (named at ${join(dir, "reactor.yaml")}:3 reactor[0].a/b[0])` }]);
  });

  void it("a filesystem glob matching nothing is an error of its file; the entry's other files still fire", async () => {
    const { code, lines } = await run("g/x", '{"id":"db1"}', { json: true });
    assert.equal(code, TestExit.Errors);
    const r = JSON.parse(lines.join("")) as { reactions: { id: string }[]; errors: { file: string; message: string }[] };
    assert.deepEqual(r.reactions.map((x) => x.id), ["hello"]);
    assert.deepEqual(r.errors.map((e) => e.file), ["gone/*.sls"]);
  });

  void it("reactor validate still fails on the missing files", async () => {
    const out: string[] = [];
    const code = await runValidate({ config: join(dir, "reactor.yaml") }, (s) => out.push(s));
    assert.equal(code, 1);
    assert.match(out.join("\n"), /reactor\.yaml:3: reactor\[0\]\.a\/b\[0\] names a file that does not exist: "nope\.sls"/);
    assert.match(out.join("\n"), /matches no file: "gone\/\*\.sls"/);
  });
});

void describe("reactor test --explain shows what each matched file rendered", () => {
  void it("a false {% if %} shows as an empty render, not only 'reactions: none'", async () => {
    const { code, lines } = await run("e/f", '{"id":"web1","act":"accept"}', { explain: true });
    assert.equal(code, TestExit.Ok);
    const text = lines.join("\n");
    assert.match(text, /reactions: none/);
    assert.match(text, /rendered cond\.sls: \(empty: no reaction\)/);
  });

  void it("a true condition shows the rendered text line by line; --json has it under explain.rendered", async () => {
    const { lines } = await run("e/f", '{"id":"web1","act":"pend"}', { explain: true });
    assert.match(lines.join("\n"), /rendered cond\.sls:\n {2}\| \n {2}\| accept:\n {2}\| {3}wheel\.key\.accept:\n {2}\| {5}- match: web1/);
    const j = await run("e/f", '{"id":"web1","act":"accept"}', { explain: true, json: true });
    const r = JSON.parse(j.lines.join("")) as { explain: { rendered: { file: string; text: string }[] } };
    assert.deepEqual(r.explain.rendered, [{ file: "cond.sls", text: "\n" }]);
  });
});

void describe("cause of an event as `event watch` and `explain` print it", () => {
  void it("names the cause only when there is one (a `reactor run` job's event.send has depth 1 and no cause)", () => {
    assert.equal(causeText({ depth: 1 }), " (depth 1)");
    assert.equal(causeText({ depth: 2, causationId: "e1" }), " (caused by e1, depth 2)");
    assert.equal(causeText({ depth: 0 }), "");
  });
});
