/**
 * docs/errors.md lists exactly the codes of ErrorCode in src/core/errors.ts, each once, with the
 * classes that use it (as fastify's test/internals/errors.test.js keeps its docs in sync).
 */
import { readFileSync } from "node:fs";
import { repoRoot } from "../helpers/paths.js";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { ErrorCode } from "../../src/core/errors.js";

const ROOT = repoRoot();
const doc = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
const source = readFileSync(join(ROOT, "src", "core", "errors.ts"), "utf8");
/** Table rows: code -> the class cell. */
const rows = new Map<string, string>();
for (const m of doc.matchAll(/^\| `(E_[A-Z_]+)` \| ([^|]*) \|/gm)) {
  assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
  rows.set(m[1]!, m[2]!.trim());
}

void describe("docs/errors.md", () => {
  void it("lists every error code", () => {
    for (const code of Object.values(ErrorCode)) assert.ok(rows.has(code), `docs/errors.md lacks ${code}`);
  });

  void it("lists no code that does not exist", () => {
    const known = new Set<string>(Object.values(ErrorCode));
    for (const code of rows.keys()) assert.ok(known.has(code), `docs/errors.md lists ${code}, which is not in ErrorCode`);
    const mentioned = new Set(doc.match(/\bE_[A-Z_]+\b/g) ?? []);
    for (const code of mentioned) assert.ok(known.has(code), `docs/errors.md mentions ${code}, which is not in ErrorCode`);
  });

  void it("names, for each code, the classes that raise it (or says it is reserved)", () => {
    const keyOf = new Map(Object.entries(ErrorCode).map(([k, v]) => [v, k]));
    for (const [code, cell] of rows) {
      const key = keyOf.get(code as ErrorCode)!;
      const classes = [...source.matchAll(/export class (\w+) extends ReactorError \{[\s\S]*?super\(\s*ErrorCode\.(\w+)\b/g)]
        .filter((m) => m[2] === key)
        .map((m) => m[1]!);
      const named = [...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
      if (classes.length === 0) assert.equal(cell, "(reserved)", `${code}: no class raises it, so it is (reserved)`);
      else assert.deepEqual(named.sort(), classes.sort(), `${code}: classes`);
    }
  });
});
