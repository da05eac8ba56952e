/**
 * The service's view of known agents (KV `minions`), kept in memory by a KV watch so that target
 * resolution costs no round trip per reaction. Records are written by agents (grains, last seen),
 * so with `onlyAccepted` (the CLI's `reactor run` and `reactor orchestrate`) an agent counts only
 * while its key is accepted: an agent whose key was deleted but that still runs (and rewrites its
 * record) is never a target.
 */
import { openKv, kvKeyParts, type Connection } from "../bus/index.js";
import { openKeyStore, watchAcceptedKeys } from "../keys/index.js";
import { matchTargets, type MinionRecord } from "../core/targeting/index.js";
import type { Logger, TargetType } from "../core/index.js";

/** A minion record as agents write it. */
export interface MinionValue {
  readonly id: string;
  readonly grains: Readonly<Record<string, unknown>>;
  readonly last_seen: string;
  readonly key_state?: string;
}

/** Known agents, live. */
export interface MinionDirectory {
  resolve(tgt: string | readonly string[], tgtType: string): string[];
  list(): MinionRecord[];
  stop(): void;
}

/** Opens the `minions` bucket and mirrors it. Resolves once the initial values are loaded. */
export async function openMinionDirectory(conn: Connection, opts: { replicas: number; log: Logger; onlyAccepted?: boolean }): Promise<MinionDirectory> {
  const kv = await openKv<MinionValue>(conn, { bucket: "minions", history: 1, replicas: opts.replicas });
  const keys = opts.onlyAccepted ? await watchAcceptedKeys(await openKeyStore(conn, { replicas: opts.replicas }), opts.log) : undefined;
  const minions = new Map<string, MinionRecord>();
  for (const e of await kv.entries()) minions.set(e.key, { id: e.value.id, grains: e.value.grains ?? {} });
  const watch = await kv.watch({ initial: false });
  void (async () => {
    try {
      for await (const c of watch) {
        if (c.op === "put" && c.value) minions.set(c.key, { id: c.value.id, grains: c.value.grains ?? {} });
        else minions.delete(c.key);
      }
    } catch (err) {
      opts.log.error({ err }, "minions watch stopped");
    }
  })();
  const live = (): MinionRecord[] => (keys ? [...minions.values()].filter((m) => keys.get(m.id) !== undefined) : [...minions.values()]);
  return {
    resolve: (tgt, tgtType) => matchTargets(tgt, tgtType as TargetType, live()),
    list: live,
    stop: () => {
      watch.stop();
      void keys?.stop();
    },
  };
}

/** The KV key of an agent's record (escaped id). */
export function minionKvId(key: string): string {
  return kvKeyParts(key)[0] ?? key;
}
