#!/usr/bin/env node
// A tiny HTTP service for the example agent (examples/agent.yaml) and the service manager tests: `demo-web.mjs --port N --pidfile FILE`.
// Answers every request with "ok <pid>", writes its pid to FILE once listening, removes it on SIGTERM.
import { createServer } from "node:http";
import { unlinkSync, writeFileSync } from "node:fs";

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg("port") ?? 8080);
const pidfile = arg("pidfile");

const server = createServer((_req, res) => res.end(`ok ${process.pid}\n`));
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
  server.closeAllConnections();
});
