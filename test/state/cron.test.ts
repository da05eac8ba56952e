/** cron states and cron.* on a real crontab of a throwaway user (Debian's cron: .ci/run installs it). */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const cron = builtinStateModules().get("cron")!.functions;
const user = `nrtc${process.pid % 100000}`;
const crontab = () => execFileSync("crontab", ["-l", "-u", user], { encoding: "utf8" });
const hasCrontab = (() => {
  try {
    execFileSync("sh", ["-c", "command -v crontab"], { stdio: "ignore" });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

void describe(
  "cron.present / cron.absent",
  { skip: hasCrontab ? false : "needs crontab (Debian's cron) and root" },
  () => {
    before(() => execFileSync("useradd", ["-M", user]));
    after(() => {
      try {
        execFileSync("crontab", ["-r", "-u", user], { stdio: "ignore" });
      } catch {
        // none
      }
      execFileSync("userdel", [user]);
    });

    it("adds a job in Salt's managed section, updates it by identifier, and removes it", async () => {
      const { ctx, with: w } = makeStateContext();
      const args = {
        name: "/usr/bin/backup --all",
        user,
        minute: 5,
        hour: "2",
        identifier: "backup",
        comment: "nightly",
      };
      assert.equal((await cron.present!(args, w({ test: true }))).result, null);
      const r = await cron.present!(args, ctx);
      assert.deepEqual(
        [r.result, r.changes, r.comment],
        [true, { [user]: args.name }, `Cron ${args.name} added to ${user}'s crontab`],
      );
      assert.equal(
        crontab(),
        "# Lines below here are managed by Salt, do not edit\n# nightly SALT_CRON_IDENTIFIER:backup\n5 2 * * * /usr/bin/backup --all\n",
      );
      assert.deepEqual((await cron.present!(args, ctx)).changes, {});
      const upd = await cron.present!({ ...args, name: "/usr/bin/backup --fast", hour: "3" }, ctx);
      assert.equal(upd.comment, "Cron /usr/bin/backup --fast updated");
      assert.match(crontab(), /^5 3 \* \* \* \/usr\/bin\/backup --fast$/m);
      assert.doesNotMatch(crontab(), /--all/);
      await cron.present!({ name: "/usr/bin/true", user, special: "@reboot" }, ctx);
      assert.match(crontab(), /^@reboot \/usr\/bin\/true$/m);
      const gone = await cron.absent!({ name: "/usr/bin/backup --fast", user, identifier: "backup" }, ctx);
      assert.equal(gone.comment, `Cron /usr/bin/backup --fast removed from ${user}'s crontab`);
      assert.doesNotMatch(crontab(), /backup/);
      assert.equal(
        (await cron.absent!({ name: "/usr/bin/nothing", user }, ctx)).comment,
        "Cron /usr/bin/nothing does not exist",
      );
    });
  },
);
