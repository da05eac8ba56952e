/** user and group states with real accounts (unique names, removed after): apply, test mode, updates, absent. */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const mods = builtinStateModules();
const user = mods.get("user")!.functions;
const group = mods.get("group")!.functions;
const tag = `${process.pid % 100000}`;
const u = `nrtu${tag}`;
const g = `nrtg${tag}`;
const g2 = `nrth${tag}`;
const root = process.getuid?.() === 0;

after(() => {
  for (const argv of [
    ["userdel", "-r", u],
    ["groupdel", g],
    ["groupdel", g2],
  ]) {
    try {
      execFileSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
});

// Creating accounts needs root (this machine's tests run as root; elsewhere the reason is printed).
void describe("user and group states", { skip: root ? false : "needs root to create accounts" }, () => {
  it("creates a group and a user in it, updates them, and is idempotent", async () => {
    const { ctx, with: w } = makeStateContext();
    assert.equal((await group.present!({ name: g }, w({ test: true }))).result, null);
    assert.deepEqual(await ctx.exec("group.info", [g]), {}, "test mode created nothing");
    const gr = await group.present!({ name: g, gid: 45000 + (process.pid % 1000) }, ctx);
    assert.equal(gr.comment, `New group ${g} created`);
    assert.equal((await group.present!({ name: g2 }, ctx)).result, true);
    const ur = await user.present!(
      { name: u, shell: "/bin/sh", groups: [g], fullname: "Test User", createhome: false },
      ctx,
    );
    assert.equal(ur.result, true, ur.comment);
    assert.equal(ur.comment, `New user ${u} created`);
    const info = (await ctx.exec("user.info", [u])) as { shell: string; groups: string[]; fullname: string };
    assert.equal(info.shell, "/bin/sh");
    assert.ok(info.groups.includes(g));
    assert.equal(info.fullname, "Test User");
    const same = await user.present!(
      { name: u, shell: "/bin/sh", groups: [g], fullname: "Test User", createhome: false },
      ctx,
    );
    assert.deepEqual(
      [same.result, same.changes, same.comment],
      [true, {}, `User ${u} is present and up to date`],
    );
    const dry = await user.present!({ name: u, shell: "/bin/bash", groups: [g, g2] }, w({ test: true }));
    assert.equal(dry.result, null);
    const upd = await user.present!({ name: u, shell: "/bin/bash", groups: [g, g2] }, ctx);
    assert.deepEqual([upd.result, upd.changes], [true, { shell: "/bin/bash", groups: [g, g2].sort() }]);
    const members = await group.present!({ name: g2, delusers: [u] }, ctx);
    assert.deepEqual(members.changes, { members: [] });
    assert.deepEqual(((await ctx.exec("group.info", [g2])) as { members: string[] }).members, []);
  });

  it("removes the user and the groups", async () => {
    const { ctx } = makeStateContext();
    assert.deepEqual((await user.absent!({ name: u }, ctx)).changes, { [u]: "removed" });
    assert.equal((await user.absent!({ name: u }, ctx)).comment, `User ${u} is not present`);
    assert.equal((await group.absent!({ name: g }, ctx)).result, true);
    assert.equal((await group.absent!({ name: g2 }, ctx)).result, true);
    assert.deepEqual(await ctx.exec("group.info", [g]), {});
  });
});
