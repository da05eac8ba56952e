/** `reactor call FUN [ARGS...]`: salt-call; `--local` runs it here without NATS (DESIGN.md 8, 11). */
import type { Command } from "commander";
import { statSync } from "node:fs";
import { join } from "node:path";
import {
  CALL_OUTPUTS,
  callDefaultOutput,
  callLocal,
  createLogger,
  formatCallOutput,
  openClient,
  parseCliArgs,
  resolveServers,
  runRemote,
  type CallOutput,
} from "../../apps/index.js";
import { loadAgentConfig } from "../../config/index.js";
import { fail, println } from "../common.js";

interface CallOptions {
  local?: boolean;
  configDir: string;
  out?: string;
  id?: string;
  nats?: string;
  key?: string;
  timeout: string;
  retcodePassthrough?: boolean;
  logLevel: string;
}

/** `-c` names a directory holding agent.yaml (as salt-call's config dir) or the file itself. */
function agentYaml(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, "agent.yaml");
  } catch {
    // a missing path is reported by the config loader, with its name
  }
  return path;
}

/** Registers `reactor call`. */
export function registerCall(program: Command): void {
  program
    .command("call")
    .description(
      "run an execution function on this host, as salt-call (--local: without NATS, from agent.yaml's file_roots)",
    )
    .argument("<fun>", "function, e.g. state.apply, test.ping, grains.items")
    .argument("[args...]", "arguments; key=value is a keyword argument")
    .option("--local", "masterless: run here without the service (salt-call --local)")
    .option("-c, --config-dir <dir>", "directory holding agent.yaml (or the file)", "/etc/nats-reactor")
    .option(
      "--out <outputter>",
      `output: ${CALL_OUTPUTS.join(", ")} (default: highstate for state runs, else nested)`,
    )
    .option("--id <id>", "agent id (default: agent.yaml, else the host's FQDN)")
    .option("--retcode-passthrough", "exit with the function's retcode (default: 1 when it is not 0)")
    .option("--timeout <seconds>", "seconds to wait for the agent (without --local)", "60")
    .option("--nats <url>", "NATS server URL (without --local)")
    .option("--key <file>", "sign the job with this key (without --local)")
    .option("-l, --log-level <level>", "log level", "warn")
    .action(async (fun: string, args: string[], opts: CallOptions) => {
      try {
        const out = (opts.out ?? callDefaultOutput(fun)) as CallOutput;
        if (!(CALL_OUTPUTS as readonly string[]).includes(out))
          throw new Error(`--out must be one of ${CALL_OUTPUTS.join(", ")}`);
        const { arg, kwarg } = parseCliArgs(args);
        const log = createLogger({ level: opts.logLevel });
        const path = agentYaml(opts.configDir);
        let retcode: number;
        if (opts.local) {
          const { ret } = await callLocal({
            configPath: path,
            fun,
            arg,
            kwarg,
            log,
            ...(opts.id ? { id: opts.id } : {}),
          });
          println(formatCallOutput("local", ret.return, out));
          retcode = ret.retcode;
        } else {
          const id = opts.id ?? (await loadAgentConfig(path)).id;
          const timeout = Number(opts.timeout);
          if (!(timeout > 0)) throw new Error("--timeout must be a positive number of seconds");
          const client = await openClient({
            servers: resolveServers(opts.nats),
            name: "reactor call",
            signing: true,
            log,
            ...(opts.key ? { keyFile: opts.key } : {}),
          });
          try {
            const res = await runRemote(client, { tgt: id, tgtType: "list", fun, arg, kwarg, timeout });
            const r = res.returns[id];
            if (!r)
              throw new Error(
                `the agent ${JSON.stringify(id)} did not return within ${timeout} s (is it running and accepted?)`,
              );
            println(formatCallOutput("local", r.return, out));
            retcode = r.retcode;
          } finally {
            await client.close();
          }
        }
        if (retcode !== 0) process.exitCode = opts.retcodePassthrough ? retcode : 1;
      } catch (err) {
        fail(err);
      }
    });
}
