/**
 * Replay detection with bounded memory. Remembers the ids of recent events (up to `capacity`);
 * when one is evicted, the low-water mark rises to its stamp, and events stamped at or before the
 * mark are refused as too old to check. So a replayed event is refused whether or not its id is
 * still remembered, and memory stays bounded. A redelivery of the same stored message (same stream
 * sequence) is not a replay.
 */

/** Outcome of a replay check: undefined when fresh, else the reason. */
export type ReplayVerdict = undefined | string;

/** The replay guard. */
export class ReplayGuard {
  private readonly seen = new Map<string, { seq: number; stamp: number }>();
  private floor = Number.NEGATIVE_INFINITY;

  /** `capacity`: ids remembered (default 100,000). */
  constructor(readonly capacity = 100_000) {}

  /** Ids remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /** The low-water mark (ms since epoch): events stamped at or before it are refused. */
  get lowWaterMark(): number {
    return this.floor;
  }

  /** Checks without remembering. `seq` is the stream sequence when known (-1 when not). */
  check(id: string, stampMs: number, seq = -1): ReplayVerdict {
    const prev = this.seen.get(id);
    if (prev) return seq >= 0 && prev.seq === seq ? undefined : `event id ${id} was seen before (replay)`;
    if (stampMs <= this.floor) return `event stamped ${new Date(stampMs).toISOString()} is older than the replay window`;
    return undefined;
  }

  /** Remembers an accepted event, evicting the oldest when full. */
  remember(id: string, stampMs: number, seq = -1): void {
    if (this.seen.has(id)) return;
    this.seen.set(id, { seq, stamp: stampMs });
    while (this.seen.size > this.capacity) {
      const [oldId, old] = this.seen.entries().next().value!;
      this.seen.delete(oldId);
      if (old.stamp > this.floor) this.floor = old.stamp;
    }
  }
}
