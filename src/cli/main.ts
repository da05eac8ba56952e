#!/usr/bin/env node
/** The `reactor` command. One file per command under commands/. */
import { Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { registerEvent } from "./commands/event.js";
import { registerTest } from "./commands/test.js";
import { registerValidate } from "./commands/validate.js";
import { registerServe } from "./commands/serve.js";
import { registerAgent } from "./commands/agent.js";
import { registerRun } from "./commands/run.js";
import { registerCall } from "./commands/call.js";
import { registerUp } from "./commands/up.js";
import { registerStatus } from "./commands/status.js";
import { registerOrchestrate } from "./commands/orchestrate.js";
import { orchestrateDeps } from "./commands/orchestrate-deps.js";
import { registerMine } from "./commands/mine.js";
import { registerKey } from "./commands/key.js";
import { registerExplain } from "./commands/explain.js";
import { registerNats } from "./commands/nats.js";

import { packageRoot } from "../apps/index.js";
import { addNatsAuthFlags } from "./common.js";

const { version } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  version: string;
};

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
registerCall(program);
registerUp(program);
registerStatus(program);
registerOrchestrate(program, orchestrateDeps);
registerMine(program);
registerKey(program);
registerExplain(program);
registerNats(program);

addNatsAuthFlags(program);

await program.parseAsync(process.argv);
