/**
 * Replay protection that survives a service restart and holds across replicas (DESIGN.md 2.4): the
 * id of every event the verifier accepts is created in the `replay` KV bucket, whose age is the
 * stream's (older events are refused as stale anyway). A second stored copy of the same event id
 * (a captured event published again after the stream's de-duplication window) finds the key and
 * is a replay; a redelivery of the same stream message (same sequence) is not. `create` is atomic,
 * so two replicas that get the original and the copy cannot both accept.
 */
import { createHash } from "node:crypto";
import { kvKey, openKv, type Connection, type JsonKv } from "../bus/index.js";

/** Bucket of the ids of accepted events. */
export const REPLAY_BUCKET = "replay";

interface SeenRecord {
  readonly seq: number;
  readonly at: string;
}

/** The persisted replay record. */
export interface ReplayStore {
  /** Records an accepted event; false when its id was accepted before from another message (a replay). */
  firstSeen(eventId: string, seq: number): Promise<boolean>;
}

/** Opens (or creates) the bucket. `maxAgeMs`: the stream's max age. */
export async function openReplayStore(conn: Connection, opts: { replicas: number; maxAgeMs: number }): Promise<ReplayStore> {
  const kv: JsonKv<SeenRecord> = await openKv<SeenRecord>(conn, { bucket: REPLAY_BUCKET, history: 1, replicas: opts.replicas, maxAgeMs: opts.maxAgeMs });
  return {
    async firstSeen(eventId, seq) {
      // a single escaped part has no '.', so the hashed form of long ids cannot collide with it
      const key = eventId.length <= 128 ? kvKey(eventId) : `h.${createHash("sha256").update(eventId).digest("hex")}`;
      if ((await kv.create(key, { seq, at: new Date().toISOString() })) !== undefined) return true;
      const prev = await kv.get(key);
      return seq >= 0 && prev !== undefined && prev.value.seq === seq;
    },
  };
}
