#!/usr/bin/env node
/** The `reactor` command. One file per command under commands/. */
import { Command } from "commander";
import { createRequire } from "node:module";
import { registerEvent } from "./commands/event.js";
import { registerTest } from "./commands/test.js";
import { registerValidate } from "./commands/validate.js";
import { registerServe } from "./commands/serve.js";
import { registerAgent } from "./commands/agent.js";
import { registerRun } from "./commands/run.js";
import { registerUp } from "./commands/up.js";
import { registerOrchestrate } from "./commands/orchestrate.js";
import { orchestrateDeps } from "./commands/orchestrate-deps.js";
import { registerMine } from "./commands/mine.js";

const { version } = createRequire(import.meta.url)("../../../package.json") as { version: string };

const program = new Command("reactor")
  .description("nats-reactor: Salt-style reactor, beacons and mine on NATS")
  .version(version)
  .showHelpAfterError();

registerEvent(program);
registerTest(program);
registerValidate(program);
registerServe(program);
registerAgent(program);
registerRun(program);
registerUp(program);
registerOrchestrate(program, orchestrateDeps);
registerMine(program);

await program.parseAsync(process.argv);
