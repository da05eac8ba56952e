/** `reactor serve -c reactor.yaml`: the reactor service (DESIGN.md 3). SIGHUP reloads the map. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { startService } from "../../apps/index.js";
import { fail, untilSignal } from "../common.js";

/** Registers `reactor serve`. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the reactor service: consume events, match the reactor map, dispatch reactions")
    .option("-c, --config <file>", "the service configuration", "reactor.yaml")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else the config file)")
    .option("--service-key <file>", "the service's key file, created when missing (default: keys.service_key of the config)")
    .option("--insecure-nats", "accept a NATS server that lets clients in without credentials (refused by default; docs/security.md)")
    .action(async (opts: { config: string; nats?: string; serviceKey?: string; insecureNats?: boolean }) => {
      let service;
      try {
        service = await startService({
          configPath: opts.config,
          ...(opts.nats ? { nats: opts.nats } : {}),
          ...(opts.serviceKey ? { serviceKeyFile: resolve(opts.serviceKey) } : {}),
          ...(opts.insecureNats ? { allowInsecureNats: true } : {}),
        });
      } catch (err) {
        fail(err, 2);
        return;
      }
      const onHup = () => {
        service.reload().catch((err: unknown) => process.stderr.write(`reactor: reload refused, the running map stays: ${String(err)}\n`));
      };
      process.on("SIGHUP", onHup);
      await untilSignal();
      process.off("SIGHUP", onHup);
      await service.stop();
    });
}
