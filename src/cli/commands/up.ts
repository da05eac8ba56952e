/** `reactor up`: the one-command local stack (DESIGN.md 8). */
import { InvalidArgumentError, type Command } from "commander";
import { up, upBanner } from "../../apps/index.js";
import { fail, untilSignal } from "../common.js";

interface UpFlags {
  config?: string;
  agentConfig?: string;
  nats?: string;
  insecureNats?: boolean;
  stateDir?: string;
  agent: boolean;
  demo?: "release";
  haproxyPort?: number;
}

/** Registers `reactor up`. */
export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start nats-server, the reactor service and one agent on the example configuration")
    .option("-c, --config <file>", "reactor.yaml (default: the example reactors/reactor.yaml)")
    .option("--agent-config <file>", "agent.yaml (default: the example examples/agent.yaml)")
    .option("--nats <url>", "use a running NATS server instead of starting one (the stack's own server runs with the generated auth)")
    .option("--insecure-nats", "with --nats: accept a server that lets clients in without credentials")
    .option("--state-dir <dir>", "keep state here (default: a temp directory removed on stop)")
    .option("--no-agent", "start no agent")
    .option("--demo <name>", "also run a demo: `release` (haproxy, a load balancer and three web hosts; docs/orchestration.md)", demoName)
    .option("--haproxy-port <port>", "with --demo release: haproxy's port on 127.0.0.1 (default: a free one)", portNumber)
    .action(async (opts: UpFlags) => {
      // Ctrl-C while starting (the demo takes a while) stops what already started.
      const signalled = untilSignal();
      const abort = new AbortController();
      void signalled.then(() => abort.abort());
      let stack;
      try {
        stack = await up({
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.agentConfig ? { agentConfig: opts.agentConfig } : {}),
          ...(opts.nats ? { nats: opts.nats } : {}),
          ...(opts.insecureNats ? { insecureNats: true } : {}),
          ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
          noAgent: !opts.agent,
          ...(opts.demo ? { demo: opts.demo } : {}),
          ...(opts.haproxyPort !== undefined ? { haproxyPort: opts.haproxyPort } : {}),
          signal: abort.signal,
        });
      } catch (err) {
        if (abort.signal.aborted) {
          process.stderr.write("stopped while starting\n");
          process.exitCode = 130;
        } else fail(err, 2);
        // up() stopped what it started; exit anyway, so that no handle a failed start might leave
        // behind can keep the command alive after it said it stopped.
        process.exit();
      }
      process.stdout.write(upBanner(stack));
      await signalled;
      process.stderr.write("stopping...\n");
      await stack.stop();
    });
}

function demoName(value: string): "release" {
  if (value !== "release") throw new InvalidArgumentError("the only demo is `release`");
  return value;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("must be a port number (1-65535)");
  return n;
}
