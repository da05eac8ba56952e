/**
 * Rate-limited reporting of things an outsider can cause in bulk (junk messages, refused events):
 * each occurrence is counted; at most `detailed` of them per window may be reported one by one,
 * the rest are summed up by kind and source for one summary per window. So a flood of junk costs
 * a bounded number of report events, never one per message. Pure: the caller drains on a timer.
 */

/** What happened since the last drain that was not reported one by one. */
export interface ReportSummary {
  readonly count: number;
  readonly by_kind: Readonly<Record<string, number>>;
  /** Counts by source (at most `maxSources` names; the rest under `other`). */
  readonly by_source: Readonly<Record<string, number>>;
  /** ISO times of the first and last occurrence summed up here. */
  readonly first_at: string;
  readonly last_at: string;
}

/** Options of a report window. */
export interface ReportWindowOptions {
  /** Occurrences per window that may be reported in full. Default 10. */
  readonly detailed?: number;
  /** Window length, ms. Default 1000. */
  readonly windowMs?: number;
  /** Distinct sources named in a summary. Default 20. */
  readonly maxSources?: number;
  readonly now?: () => number;
}

/** Counts occurrences and says which may be reported in full. */
export class ReportWindow {
  private readonly detailed: number;
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private count = 0;
  private byKind = new Map<string, number>();
  private bySource = new Map<string, number>();
  private first = 0;
  private last = 0;

  constructor(opts: ReportWindowOptions = {}) {
    this.detailed = opts.detailed ?? 10;
    this.windowMs = opts.windowMs ?? 1000;
    this.maxSources = opts.maxSources ?? 20;
    this.now = opts.now ?? Date.now;
  }

  /** Counts one occurrence; true when this one may be reported in full now. */
  note(kind: string, source = "unknown"): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow < this.detailed) {
      this.inWindow++;
      return true;
    }
    if (this.count === 0) this.first = t;
    this.last = t;
    this.count++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const name = this.bySource.has(source) || this.bySource.size < this.maxSources ? source : "other";
    this.bySource.set(name, (this.bySource.get(name) ?? 0) + 1);
    return false;
  }

  /** The occurrences summed up since the last drain (undefined when none), and starts afresh. */
  drain(): ReportSummary | undefined {
    if (this.count === 0) return undefined;
    const out: ReportSummary = {
      count: this.count,
      by_kind: Object.fromEntries(this.byKind),
      by_source: Object.fromEntries(this.bySource),
      first_at: new Date(this.first).toISOString(),
      last_at: new Date(this.last).toISOString(),
    };
    this.count = 0;
    this.byKind = new Map();
    this.bySource = new Map();
    return out;
  }
}
