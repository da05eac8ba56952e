/** `reactor explain EVENT-ID`: why an event did or didn't fire (DESIGN.md 3.6, 8). */
import type { Command } from "commander";
import { createLogger, explainEvent, formatExplanation, openClient, resolveServers } from "../../apps/index.js";
import { loadServiceConfig } from "../../config/index.js";
import { fail, parseSince, println } from "../common.js";

/** Registers `reactor explain`. */
export function registerExplain(program: Command): void {
  program
    .command("explain")
    .description("why did (or didn't) an event fire: its decision replayed, its audit events and ledger records")
    .argument("<event-id>", "the event id (reactor event watch --json shows it)")
    .option("-c, --config <file>", "the service configuration (its map is replayed)", "reactor.yaml")
    .option("--since <when>", "how far back to look for the event (duration or ISO time)", "24h")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else the config file)")
    .option("--json", "print one JSON object")
    .action(async (id: string, opts: { config: string; since: string; nats?: string; json?: boolean }) => {
      try {
        const config = await loadServiceConfig(opts.config);
        const client = await openClient({ servers: resolveServers(opts.nats, config.nats.servers), name: "reactor explain", log: createLogger({ level: "warn" }), ensureStream: false });
        try {
          const x = await explainEvent(client, config, id, parseSince(opts.since));
          if (!x) {
            fail(new Error(`no event with id ${id} in the stream since ${opts.since} (try --since 7d)`), 1);
            return;
          }
          println(opts.json ? JSON.stringify(x) : formatExplanation(x));
        } finally {
          await client.close();
        }
      } catch (err) {
        fail(err, 2);
      }
    });
}
