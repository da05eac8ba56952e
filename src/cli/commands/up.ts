/** `reactor up`: the one-command local stack (DESIGN.md 8). */
import type { Command } from "commander";
import { up, upBanner } from "../../apps/index.js";
import { fail, untilSignal } from "../common.js";

/** Registers `reactor up`. */
export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start nats-server, the reactor service and one agent on the example configuration")
    .option("-c, --config <file>", "reactor.yaml (default: the example reactors/reactor.yaml)")
    .option("--agent-config <file>", "agent.yaml (default: the example examples/agent.yaml)")
    .option("--nats <url>", "use a running NATS server instead of starting one")
    .option("--state-dir <dir>", "keep state here (default: a temp directory removed on stop)")
    .option("--no-agent", "start no agent")
    .action(async (opts: { config?: string; agentConfig?: string; nats?: string; stateDir?: string; agent: boolean }) => {
      let stack;
      try {
        stack = await up({
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.agentConfig ? { agentConfig: opts.agentConfig } : {}),
          ...(opts.nats ? { nats: opts.nats } : {}),
          ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
          noAgent: !opts.agent,
        });
      } catch (err) {
        fail(err, 2);
        return;
      }
      process.stdout.write(upBanner(stack));
      await untilSignal();
      process.stderr.write("stopping...\n");
      await stack.stop();
    });
}
