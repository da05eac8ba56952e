/**
 * Storm control: `throttle: {key, max, per}` on a map entry. Fixed windows per rendered key, shared
 * by every service replica through the `reactions` bucket (compare-and-set), so three replicas
 * together still let `max` through per window.
 */
import { kvKey, type JsonKv } from "../bus/index.js";

interface Window {
  readonly start: number;
  readonly count: number;
}

/** Counts reactions per key and window; `admit` says whether one more may run. */
export class Throttler {
  constructor(
    private readonly kv: JsonKv<Window>,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this occurrence is within `max` per `perSeconds` for `key`. */
  async admit(entryName: string, key: string, max: number, perSeconds: number): Promise<boolean> {
    const k = kvKey("throttle", entryName, key);
    const perMs = perSeconds * 1000;
    for (let attempt = 0; attempt < 20; attempt++) {
      const now = this.now();
      const cur = await this.kv.get(k);
      const fresh = !cur || now - cur.value.start >= perMs;
      const next: Window = fresh ? { start: now, count: 1 } : { start: cur.value.start, count: cur.value.count + 1 };
      if (!fresh && cur.value.count >= max) return false;
      const ok = cur ? await this.kv.update(k, next, cur.revision) : await this.kv.create(k, next);
      if (ok !== undefined) return true;
    }
    return false;
  }
}
