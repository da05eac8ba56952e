/**
 * Limits on new ids in the handshake (`keys.max_pending`, `keys.new_id_rate`, `keys.new_id_burst`,
 * `keys.new_id_prefix_rate`, `keys.new_id_prefix_burst`). Only ids the keys bucket does not know are
 * limited, so a fleet of accepted agents restarting at once is never slowed. NATS does not tell the
 * service which client sent a request (no client info on 2.9.10), so the buckets are global and per
 * claimed id prefix (the first label without trailing digits and separators: `web12.example.com` ->
 * `web`). Refusals are reported at most once per `reportEveryMs` as `reactor/security/key-flood`.
 */

/** The limits, from `keys:` of reactor.yaml. */
export interface HandshakeLimits {
  /** Most pending keys; a new id that would pend beyond it is refused. 0 = no cap. */
  readonly max_pending: number;
  /** New ids per second (sustained), all prefixes together. 0 = no limit. */
  readonly new_id_rate: number;
  readonly new_id_burst: number;
  /** New ids per second of one claimed id prefix. 0 = no limit. */
  readonly new_id_prefix_rate: number;
  readonly new_id_prefix_burst: number;
}

/** Defaults: generous for a fleet's first boot, far below a flood of thousands. */
export const DEFAULT_HANDSHAKE_LIMITS: HandshakeLimits = { max_pending: 500, new_id_rate: 10, new_id_burst: 200, new_id_prefix_rate: 5, new_id_prefix_burst: 100 };

/** The prefix an id is limited under. */
export function idPrefix(id: string): string {
  const first = id.split(".")[0] ?? id;
  const stem = first.replace(/[-_0-9]+$/, "");
  return stem.length > 0 ? stem : first.slice(0, 1);
}

class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }
  take(now: number): boolean {
    if (this.rate <= 0) return true;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What to report about refused handshakes, when it is time to. */
export interface FloodReport {
  readonly refused: number;
  readonly by_reason: Readonly<Record<string, number>>;
  readonly last_id: string;
}

/** Token buckets for new ids and the report throttle. */
export class HandshakeGate {
  private readonly global: Bucket;
  private readonly prefixes = new Map<string, Bucket>();
  private refused: Record<string, number> = {};
  private reportedAt = -Infinity;

  constructor(
    readonly limits: HandshakeLimits,
    private readonly now: () => number = Date.now,
    private readonly reportEveryMs = 5000,
  ) {
    this.global = new Bucket(limits.new_id_rate, limits.new_id_burst, now());
  }

  /** Takes a token for a new id; why it is refused, or undefined. */
  admit(id: string): { readonly kind: "rate" | "prefix-rate"; readonly message: string } | undefined {
    const t = this.now();
    const prefix = idPrefix(id);
    let b = this.prefixes.get(prefix);
    if (!b) {
      if (this.prefixes.size >= 10_000) this.prefixes.clear(); // bounded memory
      b = new Bucket(this.limits.new_id_prefix_rate, this.limits.new_id_prefix_burst, t);
      this.prefixes.set(prefix, b);
    }
    if (!b.take(t)) return { kind: "prefix-rate", message: `too many new ids with the prefix ${JSON.stringify(prefix)} (keys.new_id_prefix_rate ${this.limits.new_id_prefix_rate}/s); try again later` };
    if (!this.global.take(t)) return { kind: "rate", message: `too many new ids (keys.new_id_rate ${this.limits.new_id_rate}/s); try again later` };
    return undefined;
  }

  /** Counts a refusal; returns what to report when the last report is old enough. */
  refuse(reason: "rate" | "prefix-rate" | "max-pending", id: string): FloodReport | undefined {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    const t = this.now();
    if (t - this.reportedAt < this.reportEveryMs) return undefined;
    this.reportedAt = t;
    const by_reason = this.refused;
    this.refused = {};
    return { refused: Object.values(by_reason).reduce((a, b) => a + b, 0), by_reason, last_id: id };
  }
}
