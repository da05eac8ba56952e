/** `reactor agent -c agent.yaml`: the agent on a host (DESIGN.md 4). */
import type { Command } from "commander";
import { startAgent } from "../../apps/index.js";
import { fail, untilSignal } from "../common.js";

/** Registers `reactor agent`. */
export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run the agent: beacons, jobs, mine")
    .option("-c, --config <file>", "the agent configuration", "agent.yaml")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else the config file)")
    .option("--id <id>", "agent id (default: the config file, else the host's FQDN)")
    .option("--state-dir <dir>", "state directory (keys, job records, event buffer)")
    .action(async (opts: { config: string; nats?: string; id?: string; stateDir?: string }) => {
      let agent;
      try {
        agent = await startAgent({
          configPath: opts.config,
          ...(opts.nats ? { nats: opts.nats } : {}),
          overrides: { ...(opts.id ? { id: opts.id } : {}), ...(opts.stateDir ? { state_dir: opts.stateDir } : {}) },
        });
      } catch (err) {
        fail(err, 2);
        return;
      }
      await untilSignal();
      await agent.stop();
    });
}
