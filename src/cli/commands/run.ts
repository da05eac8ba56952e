/** `reactor run TGT FUN [ARGS...]`: remote execution, like `salt TGT FUN ARGS` (DESIGN.md 8). */
import type { Command } from "commander";
import { createLogger, openClient, parseCliArgs, resolveServers, runRemote } from "../../apps/index.js";
import { TARGET_TYPES } from "../../core/index.js";
import { fail, println } from "../common.js";

interface RunOptions {
  nats?: string;
  key?: string;
  json?: boolean;
  tgtType: string;
  timeout: string;
}

/** Registers `reactor run`. */
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run an execution function on the targeted agents and print their returns")
    .argument("<tgt>", "target, e.g. 'web*'")
    .argument("<fun>", "function, e.g. test.ping, cmd.run, service.restart")
    .argument("[args...]", "arguments; key=value is a keyword argument")
    .option("-t, --tgt-type <type>", `target type: ${TARGET_TYPES.join(", ")}`, "glob")
    .option("--timeout <seconds>", "seconds to wait for the agents", "30")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
    .option("--json", "print one JSON object {agent: return}")
    .option("--key <file>", "sign the jobs with this key (default: REACTOR_KEY_FILE, else the service key on this host)")
    .action(async (tgt: string, fun: string, args: string[], opts: RunOptions) => {
      try {
        if (!(TARGET_TYPES as readonly string[]).includes(opts.tgtType)) throw new Error(`--tgt-type must be one of ${TARGET_TYPES.join(", ")}`);
        const timeout = Number(opts.timeout);
        if (!(timeout > 0)) throw new Error("--timeout must be a positive number of seconds");
        const client = await openClient({ servers: resolveServers(opts.nats), name: "reactor run", signing: true, log: createLogger({ level: "warn" }), ...(opts.key ? { keyFile: opts.key } : {}) });
        try {
          const { arg, kwarg } = parseCliArgs(args);
          const res = await runRemote(client, { tgt, tgtType: opts.tgtType, fun, arg, kwarg, timeout });
          if (res.targets.length === 0) {
            fail(new Error(`no agent matched the target ${JSON.stringify(tgt)} (${opts.tgtType})`), 2);
            return;
          }
          if (opts.json) {
            const out: Record<string, unknown> = {};
            for (const [id, r] of Object.entries(res.returns)) out[id] = r.return;
            for (const id of res.missing) out[id] = "Minion did not return. [No response]";
            println(JSON.stringify(out));
          } else {
            for (const id of res.targets) {
              const r = res.returns[id];
              println(`${id}:`);
              const text = r ? (typeof r.return === "string" ? r.return : JSON.stringify(r.return, null, 2)) : "Minion did not return. [No response]";
              println(text.split("\n").map((l) => `    ${l}`).join("\n"));
            }
          }
          const failed = res.missing.length > 0 || Object.values(res.returns).some((r) => !r.success || r.retcode !== 0);
          if (failed) process.exitCode = 1;
        } finally {
          await client.close();
        }
      } catch (err) {
        fail(err);
      }
    });
}
