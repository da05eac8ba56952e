/**
 * pkg states and pkg.* with real dpkg: the test builds a tiny .deb with dpkg-deb (no network),
 * installs it through pkg.installed with `sources` (a salt:// file), checks idempotence and
 * test mode, reads pkg.version, then removes and purges it.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const hasDpkg = (() => {
  try {
    execFileSync("dpkg-deb", ["--version"], { stdio: "ignore" });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

const pkg = builtinStateModules().get("pkg")!;
const name = `nrtest-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "state-pkg-"));
after(() => {
  try {
    execFileSync("dpkg", ["--purge", name], { stdio: "ignore" });
  } catch {
    // not installed
  }
  rmSync(dir, { recursive: true, force: true });
});

function buildDeb(version: string): void {
  const root = join(dir, `build-${version}`);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "usr", "share", name), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN", "control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: nats-reactor tests <dev@nats-reactor.invalid>\nDescription: a package built by the pkg state test\n`,
  );
  writeFileSync(join(root, "usr", "share", name, "hello"), `v${version}\n`);
  mkdirSync(join(dir, "roots"), { recursive: true });
  execFileSync(
    "dpkg-deb",
    ["--build", "--root-owner-group", root, join(dir, "roots", `${name}_${version}.deb`)],
    { stdio: "ignore" },
  );
}

// This machine's Debian has dpkg; the reason to skip is a host without it (or not root, which dpkg -i needs).
void describe("pkg states with a real .deb", { skip: hasDpkg ? false : "needs dpkg-deb and root" }, () => {
  it("installs from salt:// sources once, reports old/new, and leaves test mode alone", async () => {
    buildDeb("1.0");
    const { ctx, with: w } = makeStateContext({ roots: { base: [join(dir, "roots")] } });
    const args = { name, sources: [{ [name]: `salt://${name}_1.0.deb` }] };
    const dry = await pkg.functions.installed!(args, w({ test: true }));
    assert.deepEqual(
      [dry.result, dry.comment],
      [null, `The following packages would be installed/updated: ${name}`],
    );
    assert.equal(existsSync(`/usr/share/${name}/hello`), false, "test mode installs nothing");
    const r = await pkg.functions.installed!(args, ctx);
    assert.equal(r.result, true, r.comment);
    assert.deepEqual(r.changes, { [name]: { old: "", new: "1.0" } });
    assert.equal(existsSync(`/usr/share/${name}/hello`), true);
    const again = await pkg.functions.installed!(args, ctx);
    assert.deepEqual(
      [again.result, again.changes, again.comment],
      [true, {}, "All specified packages are already installed"],
    );
    assert.equal(await ctx.exec("pkg.version", [name]), "1.0");
    // a newer version from sources upgrades
    buildDeb("1.1");
    const up = await pkg.functions.installed!(
      { name, version: "1.1", sources: [{ [name]: join(dir, "roots", `${name}_1.1.deb`) }] },
      ctx,
    );
    assert.equal(up.result, true, up.comment);
  });

  it("removes and purges", async () => {
    const { ctx, with: w } = makeStateContext();
    const dry = await pkg.functions.removed!({ name }, w({ test: true }));
    assert.equal(dry.result, null);
    assert.equal((await ctx.exec("pkg.version", [name])) !== "", true);
    const r = await pkg.functions.purged!({ name }, ctx);
    assert.equal(r.result, true, r.comment);
    assert.deepEqual(Object.keys(r.changes), [name]);
    assert.equal(await ctx.exec("pkg.version", [name]), "");
    const again = await pkg.functions.removed!({ name }, ctx);
    assert.deepEqual([again.result, again.comment], [true, "All specified packages are already absent"]);
  });
});
