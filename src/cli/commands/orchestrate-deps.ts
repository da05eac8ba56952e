/** The real ports of `reactor orchestrate` (over NATS; see apps/orchestrate-ports). */
import { createLogger, createOrchestratePorts, openClient, openMinionDirectory, resolveServers } from "../../apps/index.js";
import type { OrchestrateDeps } from "./orchestrate.js";

/** Deps for registerOrchestrate: a CLI client and the minion directory. */
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
    return {
      ports,
      close: async () => {
        minions.stop();
        await client.close();
      },
    };
  },
};
