/** The real ports of `reactor orchestrate` (over NATS; see apps/orchestrate-ports). */
import { createLogger, createOrchestratePorts, openClient, openMinionDirectory, resolveServers } from "../../apps/index.js";
import { createMineCache, createMineReader, openMineStore, openMinionsStore, templateMine } from "../../mine/index.js";
import type { OrchestrateDeps } from "./orchestrate.js";

/** Deps for registerOrchestrate: a CLI client, the minion directory and a copy of the mine for templates. */
export const orchestrateDeps: OrchestrateDeps = {
  async openPorts(opts) {
    const log = createLogger({ level: "warn" });
    const client = await openClient({ servers: resolveServers(opts.nats), name: "reactor orchestrate", signing: true, log });
    const minions = await openMinionDirectory(client.conn, { replicas: 1, log });
    const ports = await createOrchestratePorts({
      conn: client.conn,
      publisher: client.publisher,
      streamName: client.streamName,
      maxEventBytes: client.maxEventBytes,
      minions,
      user: "cli",
      ...(client.signJob ? { signJob: client.signJob } : {}),
    });
    const mine = await createMineCache(createMineReader({ mine: await openMineStore(client.conn), minions: await openMinionsStore(client.conn), log }));
    return {
      ports,
      mine: templateMine(mine),
      close: async () => {
        mine.stop();
        minions.stop();
        await client.close();
      },
    };
  },
};
