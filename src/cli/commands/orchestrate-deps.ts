/**
 * The real ports of `reactor orchestrate` (over NATS; see apps/orchestrate-ports). From the CLI,
 * `salt.wheel` steps reach the key service (`key.*`, signed with the CLI key, as `reactor key`
 * does) and `salt.runner` steps can send events (`event.send`); other runners run in the service.
 */
import { createLogger, createOrchestratePorts, openClient, openMinionDirectory, resolveServers, type Client } from "../../apps/index.js";
import { createEvent } from "../../core/index.js";
import { callKeyCommand } from "../../keys/index.js";
import { createMineCache, createMineReader, openMineStore, openMinionsStore, templateMine } from "../../mine/index.js";
import type { OrchestrateDeps } from "./orchestrate.js";

/** Deps for registerOrchestrate: a CLI client, the minion directory and a copy of the mine for templates. */
export const orchestrateDeps: OrchestrateDeps = {
  async openPorts(opts) {
    const log = createLogger({ level: "warn" });
    const client = await openClient({ servers: resolveServers(opts.nats), name: "reactor orchestrate", signing: true, log });
    const minions = await openMinionDirectory(client.conn, { replicas: 1, log, onlyAccepted: true });
    const ports = await createOrchestratePorts({
      conn: client.conn,
      publisher: client.publisher,
      streamName: client.streamName,
      maxEventBytes: client.maxEventBytes,
      minions,
      user: "cli",
      ...(client.signJob ? { signJob: client.signJob } : {}),
      runner: (fun, kwarg) => cliRunner(client, fun, kwarg),
      wheel: (fun, kwarg) => cliWheel(client, fun, kwarg),
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

/** Runner functions the CLI can run itself. */
async function cliRunner(client: Client, fun: string, kwarg: Readonly<Record<string, unknown>>): Promise<unknown> {
  if (fun !== "event.send") throw new Error(`runner '${fun}' runs in the reactor service (start it from a reaction); from the CLI only event.send is available`);
  const tag = kwarg["tag"];
  const data = kwarg["data"] ?? {};
  if (typeof tag !== "string") throw new Error("event.send needs a tag");
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("event.send: data must be a mapping");
  await client.publisher.publish(createEvent({ tag, data: data as Record<string, unknown>, source: "cli" }));
  return true;
}

/** Wheel functions over the key service, signed with the CLI key. */
async function cliWheel(client: Client, fun: string, kwarg: Readonly<Record<string, unknown>>): Promise<unknown> {
  if (!fun.startsWith("key.")) throw new Error(`wheel '${fun}' is not available; the key service answers key.* functions`);
  if (!client.key) throw new Error(`wheel ${fun} must be signed: give REACTOR_KEY_FILE (the service key) or run on the service's host`);
  const r = await callKeyCommand(client.conn, fun, kwarg, client.key);
  if (!r.success) throw new Error(r.comment ?? `${fun} failed: ${JSON.stringify(r.return)}`);
  return r.return;
}
