/** The file state module on real temp files, in apply and test mode, through makeStateContext. */
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const file = builtinStateModules().get("file")!;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "state-file-"));
  dirs.push(d);
  return d;
}

void describe("file.managed", () => {
  it("creates a file from salt:// with a Jinja template, is idempotent, and diffs a change", async () => {
    const roots = tmp();
    const out = tmp();
    mkdirSync(join(roots, "app"));
    writeFileSync(
      join(roots, "app", "conf.j2"),
      "port={{ port }}\nhost={{ grains['id'] }}\n{% for b in backends %}server {{ b }}\n{% endfor %}",
    );
    const { ctx, with: w } = makeStateContext({
      roots: { base: [roots] },
      id: "web1",
      grains: { id: "web1" },
    });
    const args = {
      name: join(out, "app.conf"),
      source: "salt://app/conf.j2",
      template: "jinja",
      defaults: { port: 80, backends: ["a"] },
      context: { backends: ["a", "b"] },
      mode: 640,
    };
    const dry = await file.functions.managed!(args, w({ test: true }));
    assert.equal(dry.result, null);
    assert.deepEqual(dry.changes, { newfile: args.name });
    assert.equal(existsSync(args.name), false, "test mode touches nothing");
    const first = await file.functions.managed!(args, ctx);
    assert.equal(first.result, true);
    assert.equal(first.changes.diff, "New file");
    assert.equal(readFileSync(args.name, "utf8"), "port=80\nhost=web1\nserver a\nserver b\n");
    assert.equal((statSync(args.name).mode & 0o777).toString(8), "640");
    const again = await file.functions.managed!(args, ctx);
    assert.deepEqual(
      [again.result, again.changes, again.comment],
      [true, {}, `File ${args.name} is in the correct state`],
    );
    const changed = await file.functions.managed!(
      { ...args, context: { port: 81, backends: ["a", "b"] } },
      ctx,
    );
    assert.equal(
      changed.changes.diff,
      "--- \n+++ \n@@ -1,4 +1,4 @@\n-port=80\n+port=81\n host=web1\n server a\n server b\n",
    );
  });

  it("manages contents, owner and mode, and fails without a parent directory or a source", async () => {
    const out = tmp();
    const { ctx } = makeStateContext({ roots: { base: [tmp()] } });
    const name = join(out, "c.txt");
    const r = await file.functions.managed!(
      { name, contents: ["a", "b"], user: "nobody", group: "nogroup", mode: "0600" },
      ctx,
    );
    assert.equal(r.result, true);
    assert.equal(readFileSync(name, "utf8"), "a\nb\n");
    assert.equal(
      statSync(name).uid,
      Number(
        readFileSync("/etc/passwd", "utf8")
          .split("\n")
          .find((l) => l.startsWith("nobody:"))!
          .split(":")[2],
      ),
    );
    const perm = await file.functions.managed!({ name, contents: "a\nb", mode: "0644" }, ctx);
    assert.deepEqual(perm.changes, { mode: "0644" });
    const noParent = await file.functions.managed!({ name: join(out, "x", "y"), contents: "z" }, ctx);
    assert.deepEqual([noParent.result, noParent.comment], [false, "Parent directory not present"]);
    const noSource = await file.functions.managed!({ name: join(out, "n"), source: "salt://nope.conf" }, ctx);
    assert.deepEqual(
      [noSource.result, noSource.comment],
      [false, "Source file salt://nope.conf not found in saltenv 'base'"],
    );
  });

  it("downloads an http source only when its source_hash matches", async () => {
    const body = "downloaded\n";
    const server = createServer((_q, s) => s.end(body));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const { ctx } = makeStateContext();
      const out = tmp();
      const good = createHash("sha256").update(body).digest("hex");
      const ok = await file.functions.managed!(
        { name: join(out, "d"), source: `http://127.0.0.1:${port}/d`, source_hash: `sha256=${good}` },
        ctx,
      );
      assert.equal(ok.result, true);
      assert.equal(readFileSync(join(out, "d"), "utf8"), body);
      const bad = await file.functions.managed!(
        { name: join(out, "e"), source: `http://127.0.0.1:${port}/d`, source_hash: "0".repeat(64) },
        ctx,
      );
      assert.equal(bad.result, false);
      assert.match(bad.comment, /does not match actual checksum/);
      assert.equal(existsSync(join(out, "e")), false);
      const unverified = await file.functions.managed!(
        { name: join(out, "f"), source: `http://127.0.0.1:${port}/d` },
        ctx,
      );
      assert.equal(unverified.result, false);
    } finally {
      server.close();
    }
  });
});

void describe("file.directory, absent, touch, symlink, exists, missing", () => {
  it("brings each into its state once, and test mode changes nothing", async () => {
    const out = tmp();
    const { ctx, with: w } = makeStateContext();
    const dir = join(out, "a", "b");
    assert.equal(
      (await file.functions.directory!({ name: dir }, ctx)).result,
      false,
      "no parent without makedirs",
    );
    assert.equal(
      (await file.functions.directory!({ name: dir, makedirs: true }, w({ test: true }))).result,
      null,
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(
      (await file.functions.directory!({ name: dir, makedirs: true, mode: 750 }, ctx)).changes,
      { [dir]: "New Dir" },
    );
    assert.deepEqual(
      (await file.functions.directory!({ name: dir, makedirs: true, mode: 750 }, ctx)).changes,
      {},
    );
    const t = join(dir, "flag");
    assert.deepEqual((await file.functions.touch!({ name: t }, ctx)).changes, { new: t });
    assert.equal(existsSync(t), true);
    const l = join(out, "link");
    assert.equal((await file.functions.symlink!({ name: l, target: t }, ctx)).result, true);
    assert.equal(readlinkSync(l), t);
    assert.deepEqual((await file.functions.symlink!({ name: l, target: t }, ctx)).changes, {});
    assert.equal((await file.functions.exists!({ name: t }, ctx)).result, true);
    assert.equal((await file.functions.missing!({ name: t }, ctx)).result, false);
    assert.equal((await file.functions.absent!({ name: join(out, "a") }, w({ test: true }))).result, null);
    assert.equal(lstatSync(dir).isDirectory(), true);
    assert.deepEqual((await file.functions.absent!({ name: join(out, "a") }, ctx)).changes, {
      removed: join(out, "a"),
    });
    assert.equal(existsSync(join(out, "a")), false);
    assert.equal(
      (await file.functions.absent!({ name: join(out, "a") }, ctx)).comment,
      `File ${join(out, "a")} is not present`,
    );
  });
});

void describe("file.replace, append, line", () => {
  it("edit in place once, report a diff, and change nothing in test mode", async () => {
    const out = tmp();
    const name = join(out, "cfg");
    writeFileSync(name, "port=80\nhost=a\n");
    const { ctx, with: w } = makeStateContext();
    const dry = await file.functions.replace!(
      { name, pattern: "^port=\\d+", repl: "port=8080" },
      w({ test: true }),
    );
    assert.equal(dry.result, null);
    assert.equal(readFileSync(name, "utf8"), "port=80\nhost=a\n");
    const r = await file.functions.replace!({ name, pattern: "^port=(\\d+)", repl: "port=\\g<1>80" }, ctx);
    assert.equal(r.result, true);
    assert.equal(readFileSync(name, "utf8"), "port=8080\nhost=a\n");
    assert.match(String(r.changes.diff), /-port=80\n\+port=8080/);
    assert.deepEqual(
      (await file.functions.replace!({ name, pattern: "^port=8080", repl: "port=8080" }, ctx)).changes,
      {},
    );
    await file.functions.replace!(
      { name, pattern: "^debug=.*", repl: "debug=1", append_if_not_found: true },
      ctx,
    );
    assert.equal(readFileSync(name, "utf8"), "port=8080\nhost=a\ndebug=1\n");
    await file.functions.append!({ name, text: ["host=a", "extra=1"] }, ctx);
    assert.equal(readFileSync(name, "utf8"), "port=8080\nhost=a\ndebug=1\nextra=1\n");
    assert.deepEqual((await file.functions.append!({ name, text: "extra=1" }, ctx)).changes, {});
    await file.functions.line!({ name, mode: "replace", match: "^debug=", content: "debug=0" }, ctx);
    await file.functions.line!({ name, mode: "insert", after: "^port=", content: "bind=0.0.0.0" }, ctx);
    await file.functions.line!({ name, mode: "delete", match: "^extra=" }, ctx);
    assert.equal(readFileSync(name, "utf8"), "port=8080\nbind=0.0.0.0\nhost=a\ndebug=0\n");
    assert.deepEqual(
      (await file.functions.line!({ name, mode: "ensure", content: "host=a" }, ctx)).changes,
      {},
    );
  });
});

void describe("file.recurse and file.copy", () => {
  it("mirrors a salt:// directory, cleans what the source lacks, and copies a local file once", async () => {
    const roots = tmp();
    mkdirSync(join(roots, "site", "sub"), { recursive: true });
    writeFileSync(join(roots, "site", "index.html"), "<h1>{{ grains['id'] }}</h1>\n");
    writeFileSync(join(roots, "site", "sub", "a.txt"), "a\n");
    const out = tmp();
    const target = join(out, "www");
    mkdirSync(target);
    writeFileSync(join(target, "stale.txt"), "old\n");
    const { ctx, with: w } = makeStateContext({
      roots: { base: [roots] },
      id: "web9",
      grains: { id: "web9" },
    });
    const args = { name: target, source: "salt://site", template: "jinja", clean: true };
    const dry = await file.functions.recurse!(args, w({ test: true }));
    assert.equal(dry.result, null);
    assert.equal(existsSync(join(target, "index.html")), false);
    assert.equal(existsSync(join(target, "stale.txt")), true);
    const r = await file.functions.recurse!(args, ctx);
    assert.equal(r.result, true, r.comment);
    assert.deepEqual(Object.keys(r.changes).sort(), [
      join(target, "index.html"),
      join(target, "stale.txt"),
      join(target, "sub", "a.txt"),
    ]);
    assert.equal(readFileSync(join(target, "index.html"), "utf8"), "<h1>web9</h1>\n");
    assert.equal(existsSync(join(target, "stale.txt")), false);
    const again = await file.functions.recurse!(args, ctx);
    assert.deepEqual([again.result, again.changes], [true, {}]);
    const dest = join(out, "copy", "a.txt");
    assert.equal(
      (await file.functions.copy!({ name: dest, source: join(target, "sub", "a.txt"), makedirs: true }, ctx))
        .result,
      true,
    );
    assert.equal(readFileSync(dest, "utf8"), "a\n");
    assert.deepEqual(
      (await file.functions.copy!({ name: dest, source: join(target, "index.html") }, ctx)).changes,
      {},
      "not overwritten without force",
    );
  });
});
