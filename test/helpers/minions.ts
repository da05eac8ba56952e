/**
 * Agents as the service sees them, without running one: a record in `minions` and an accepted key
 * in `keys` (the service only targets agents whose key is accepted).
 */
import { kvKey, openKv, type Connection } from "../../src/bus/index.js";

/** Registers `id` with `grains` as a present agent with an accepted key. */
export async function registerMinion(conn: Connection, id: string, grains: Record<string, unknown> = {}, replicas = 1): Promise<void> {
  const minions = await openKv(conn, { bucket: "minions", history: 1, replicas });
  const keys = await openKv(conn, { bucket: "keys", history: 5, replicas, maxAgeMs: 0 });
  const now = new Date().toISOString();
  await keys.put(kvKey("accepted", id), { id, pub: `U${id.toUpperCase()}`, state: "accepted", first_seen: now, last_seen: now });
  await minions.put(kvKey(id), { id, grains, last_seen: now });
}
