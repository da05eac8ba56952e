/** git.latest against a local bare repository, archive.extracted with a tarball the test builds. */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const mods = builtinStateModules();
const dir = mkdtempSync(join(tmpdir(), "state-git-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

void describe("git.latest", () => {
  it("clones, is up to date on a second run, and follows a new commit", async () => {
    const bare = join(dir, "repo.git");
    const work = join(dir, "work");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", bare]);
    execFileSync("git", ["clone", "-q", bare, work], { stdio: "ignore" });
    writeFileSync(join(work, "app.txt"), "v1\n");
    git(work, "add", "app.txt");
    git(work, "commit", "-q", "-m", "one");
    git(work, "push", "-q", "origin", "HEAD:main");
    const first = git(work, "rev-parse", "HEAD");
    const target = join(dir, "checkout");
    const { ctx, with: w } = makeStateContext();
    const latest = mods.get("git")!.functions.latest!;
    const dry = await latest({ name: bare, target, rev: "main" }, w({ test: true }));
    assert.equal(dry.result, null);
    assert.equal(existsSync(target), false);
    const r = await latest({ name: bare, target, rev: "main" }, ctx);
    assert.equal(r.result, true, r.comment);
    assert.deepEqual(r.changes.revision, { old: null, new: first });
    assert.equal(readFileSync(join(target, "app.txt"), "utf8"), "v1\n");
    assert.deepEqual((await latest({ name: bare, target, rev: "main" }, ctx)).changes, {});
    writeFileSync(join(work, "app.txt"), "v2\n");
    git(work, "commit", "-q", "-am", "two");
    git(work, "push", "-q", "origin", "HEAD:main");
    const second = git(work, "rev-parse", "HEAD");
    const up = await latest({ name: bare, target, rev: "main" }, ctx);
    assert.deepEqual([up.result, up.changes], [true, { revision: { old: first, new: second } }]);
    assert.equal(readFileSync(join(target, "app.txt"), "utf8"), "v2\n");
    writeFileSync(join(target, "app.txt"), "local edit\n");
    git(work, "commit", "-q", "--allow-empty", "-m", "three");
    git(work, "push", "-q", "origin", "HEAD:main");
    assert.equal(
      (await latest({ name: bare, target, rev: "main" }, ctx)).result,
      false,
      "local changes are kept without force_reset",
    );
    assert.equal((await latest({ name: bare, target, rev: "main", force_reset: true }, ctx)).result, true);
  });
});

void describe("archive.extracted", () => {
  it("extracts a salt:// tarball once", async () => {
    const roots = join(dir, "roots");
    mkdirSync(join(dir, "src", "app-1.0"), { recursive: true });
    mkdirSync(roots, { recursive: true });
    writeFileSync(join(dir, "src", "app-1.0", "README"), "hello\n");
    execFileSync("tar", ["-czf", join(roots, "app.tar.gz"), "-C", join(dir, "src"), "app-1.0"]);
    const { ctx, with: w } = makeStateContext({ roots: { base: [roots] } });
    const extracted = mods.get("archive")!.functions.extracted!;
    const name = join(dir, "opt");
    const args = { name, source: "salt://app.tar.gz" };
    assert.equal((await extracted(args, w({ test: true }))).result, null);
    assert.equal(existsSync(join(name, "app-1.0")), false);
    const r = await extracted(args, ctx);
    assert.deepEqual([r.result, r.changes], [true, { extracted_files: [join(name, "app-1.0")] }]);
    assert.equal(readFileSync(join(name, "app-1.0", "README"), "utf8"), "hello\n");
    const again = await extracted(args, ctx);
    assert.deepEqual(
      [again.result, again.changes, again.comment],
      [true, {}, `${join(name, "app-1.0")} exists`],
    );
  });
});
