/**
 * `reactor nats config -c reactor.yaml`: prints the generated `authorization` block for nats-server
 * (docs/security.md): the service key, admin keys and the bootstrap user (its password file is
 * created when missing). The service rewrites the same file with the accepted agents once it runs
 * (`nats.auth.users_file`), so this is for the server's first start; nothing is written by hand.
 */
import type { Command } from "commander";
import { natsAuthBootstrapConfig } from "../../apps/index.js";
import { fail } from "../common.js";

/** Registers `reactor nats`. */
export function registerNats(program: Command): void {
  const nats = program.command("nats").description("NATS server settings of the secure deployment");
  nats
    .command("config")
    .description("print the generated authorization block (service, admin keys, bootstrap user); the service adds accepted agents")
    .option("-c, --config <file>", "the service configuration", "reactor.yaml")
    .action(async (opts: { config: string }) => {
      try {
        process.stdout.write(await natsAuthBootstrapConfig(opts.config));
      } catch (err) {
        fail(err, 2);
      }
    });
}
