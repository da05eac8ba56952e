/**
 * Flood control per source (`limits.per_source_rate`, `per_source_burst`): a token bucket per
 * verified agent. Trusted senders (the service, the CLI with the service key) are not limited.
 * Drops are reported at most once per second per source, so a flood cannot flood the audit trail.
 */

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
  reportedAt: number;
}

/** The verdict on one event of a source. */
export type FloodVerdict =
  { readonly ok: true } | { readonly ok: false; readonly report: number | undefined };

/** Token buckets by source. */
export class FloodGate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `source`; when none is left, says how many drops to report now (if any). */
  take(source: string): FloodVerdict {
    if (this.rate <= 0) return { ok: true };
    const t = this.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= 100_000) this.buckets.clear(); // bounded memory: a full reset is harmless
      b = { tokens: this.burst, at: t, dropped: 0, reportedAt: -Infinity };
      this.buckets.set(source, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    b.dropped++;
    if (t - b.reportedAt < 1000) return { ok: false, report: undefined };
    const report = b.dropped;
    b.dropped = 0;
    b.reportedAt = t;
    return { ok: false, report };
  }
}
