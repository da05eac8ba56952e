/**
 * Reading buckets fast. Request/reply gets cost one round trip per key, so both the one-shot read
 * (`readAll`) and the live copy (`KvMirror`) use one KV watch with the current values first: the
 * server streams them. The bus watch does not say when the current values are done, so the keys are
 * listed at the same time; the copy is complete once every listed key has been seen (as a value or
 * a delete marker; every key has a last message). Later changes keep coming through the same watch.
 * `fetchAll` (keys, then concurrent request/reply gets) is the benchmark's baseline.
 */
import { BusError, errorMessage, type Logger } from "../core/index.js";
import type { JsonKv, KvChange } from "../bus/index.js";

/** How long a copy may take to load before it fails. Default 30 s. */
const LOAD_TIMEOUT_MS = 30_000;

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

/** Current values of the keys matching `filter`, streamed by one watch. */
export async function readAll<T>(kv: JsonKv<T>, filter: string, log: Logger): Promise<[string, T][]> {
  const m = await KvMirror.start(kv, filter, log);
  m.stop();
  return [...m.entries()];
}

interface Slot<T> {
  readonly revision: number;
  readonly value: T | undefined;
}

/** A live in-memory copy of (part of) a bucket. */
export class KvMirror<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private watcher: (AsyncIterable<KvChange<T>> & { stop(): void }) | undefined;
  private readonly listeners: ((key: string, value: T | undefined) => void)[] = [];
  private stopped = false;
  /** Keys still to be seen before the copy is complete (undefined until listed). */
  private pending: Set<string> | undefined;
  private loaded!: () => void;
  private failed!: (err: unknown) => void;

  private constructor(
    private readonly kv: JsonKv<T>,
    private readonly filter: string,
    private readonly log: Logger,
  ) {}

  /** Starts the watch and lists the keys; resolves when the copy is complete. */
  static async start<T>(kv: JsonKv<T>, filter: string, log: Logger, timeoutMs = LOAD_TIMEOUT_MS): Promise<KvMirror<T>> {
    const m = new KvMirror(kv, filter, log);
    const ready = new Promise<void>((resolve, reject) => {
      m.loaded = resolve;
      m.failed = reject;
    });
    m.watcher = await kv.watch({ filter, initial: true });
    void m.follow(m.watcher);
    const timer = setTimeout(() => m.failed(new BusError(`loading KV bucket ${kv.bucket} (${filter}) took over ${timeoutMs} ms`)), timeoutMs);
    try {
      const keys = await kv.keys(filter);
      m.pending = new Set(keys.filter((k) => !m.slots.has(k)));
      if (m.pending.size === 0) m.loaded();
      await ready;
    } catch (err) {
      m.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return m;
  }

  /** Calls `fn` on every change applied after this call. */
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
        const value = c.op === "put" ? c.value : undefined;
        this.slots.set(c.key, { revision: c.revision, value });
        for (const fn of this.listeners) fn(c.key, value);
        if (this.pending?.delete(c.key) && this.pending.size === 0) this.loaded();
      }
    } catch (err) {
      this.failed(err);
      if (!this.stopped) this.log.error({ err: errorMessage(err), bucket: this.kv.bucket }, "mine mirror watch ended");
    }
  }
}
