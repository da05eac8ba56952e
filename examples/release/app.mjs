#!/usr/bin/env node
// The demo app of the code-release example (docs/orchestration.md): `app.mjs --dir DIR --port N --name NAME [--pidfile FILE]`.
// Answers every request with "<name> <version>", the version being the release DIR/current names
// (deploy.mjs writes it). On SIGTERM it stops accepting, lets requests in flight finish, then exits.
import { createServer } from "node:http";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dir = arg("dir") ?? ".";
const port = Number(arg("port") ?? 8081);
const name = arg("name") ?? "app";
const pidfile = arg("pidfile");

let version = "none";
try {
  version = readFileSync(join(dir, "current"), "utf8").trim();
} catch {
  // nothing deployed yet
}

const server = createServer((_req, res) => res.end(`${name} ${version}\n`));
server.keepAliveTimeout = 1000;
server.listen(port, "127.0.0.1", () => {
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
});
process.on("SIGTERM", () => {
  try {
    if (pidfile) unlinkSync(pidfile);
  } catch {
    // already gone
  }
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
