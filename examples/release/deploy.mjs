#!/usr/bin/env node
// The deploy command of the code-release example: `deploy.mjs VERSION`, run in the app's folder.
// Makes VERSION the current release: it must have been shipped to ./releases/VERSION first (the
// stand-in for an artifact store); otherwise nothing changes and the exit code is 1. The switch is
// atomic (write, then rename). The app serves the new version once restarted.
import { existsSync, renameSync, writeFileSync } from "node:fs";

const version = process.argv[2] ?? "";
if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(version)) {
  process.stderr.write(`deploy: not a release name: ${JSON.stringify(version)}\n`);
  process.exit(2);
}
if (!existsSync(`releases/${version}`)) {
  process.stderr.write(`deploy: release ${version} was not shipped to ${process.cwd()}/releases\n`);
  process.exit(1);
}
writeFileSync("current.tmp", `${version}\n`);
renameSync("current.tmp", "current");
process.stdout.write(`deployed ${version}\n`);
