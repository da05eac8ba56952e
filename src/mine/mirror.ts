/**
 * Reading buckets fast. `fetchAll` lists keys (a subject filter) and gets the values concurrently.
 * `KvMirror` keeps an in-memory copy of a bucket: a watch of updates started first, then a
 * concurrent snapshot, merged by revision (a newer revision always wins, deletes included), so no
 * change between the two is lost.
 */
import { errorMessage, type Logger } from "../core/index.js";
import type { JsonKv, KvChange } from "../bus/index.js";

/** Current values of the keys matching `filter`, fetched concurrently (at most `concurrency` at once). */
export async function fetchAll<T>(kv: JsonKv<T>, filter: string, concurrency = 256): Promise<{ key: string; value: T; revision: number }[]> {
  const keys = await kv.keys(filter);
  const out: { key: string; value: T; revision: number }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const v = await kv.get(key);
      if (v) out.push({ key, value: v.value, revision: v.revision });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return out;
}

interface Slot<T> {
  readonly revision: number;
  readonly value: T | undefined;
}

/** A live in-memory copy of (part of) a bucket. */
export class KvMirror<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private watcher: (AsyncIterable<KvChange<T>> & { stop(): void }) | undefined;
  private listeners: ((key: string, value: T | undefined) => void)[] = [];
  private stopped = false;

  private constructor(
    private readonly kv: JsonKv<T>,
    private readonly filter: string,
    private readonly log: Logger,
  ) {}

  /** Starts the watch, loads the snapshot, resolves when the copy is complete. */
  static async start<T>(kv: JsonKv<T>, filter: string, log: Logger): Promise<KvMirror<T>> {
    const m = new KvMirror(kv, filter, log);
    m.watcher = await kv.watch({ filter, initial: false });
    void m.follow(m.watcher);
    try {
      for (const e of await fetchAll(kv, filter)) m.apply(e.key, e.revision, e.value);
    } catch (err) {
      m.stop();
      throw err;
    }
    return m;
  }

  /** Calls `fn` on every change after start. */
  onChange(fn: (key: string, value: T | undefined) => void): void {
    this.listeners.push(fn);
  }

  /** Current values by key. */
  *entries(): IterableIterator<[string, T]> {
    for (const [k, s] of this.slots) if (s.value !== undefined) yield [k, s.value];
  }

  get(key: string): T | undefined {
    return this.slots.get(key)?.value;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
  }

  private async follow(w: AsyncIterable<KvChange<T>>): Promise<void> {
    try {
      for await (const c of w) {
        if (this.apply(c.key, c.revision, c.op === "put" ? c.value : undefined)) {
          for (const fn of this.listeners) fn(c.key, c.op === "put" ? c.value : undefined);
        }
      }
    } catch (err) {
      if (!this.stopped) this.log.error({ err: errorMessage(err), bucket: this.kv.bucket }, "mine mirror watch ended");
    }
  }

  /** Applies a value (undefined = deleted) if it is newer than what is held. */
  private apply(key: string, revision: number, value: T | undefined): boolean {
    const cur = this.slots.get(key);
    if (cur && cur.revision >= revision) return false;
    this.slots.set(key, { revision, value });
    return true;
  }
}
