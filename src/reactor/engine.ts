/**
 * The live reactor, one event at a time: verify -> depth check -> match -> throttle -> render ->
 * claim in the ledger -> dispatch -> record -> audit. The same pure match and render code as
 * `reactor test`; only the ports differ. Callers acknowledge the event after `handle` resolves.
 */
import type { ServiceConfig, ReactorMapEntry } from "../config/index.js";
import { BusError, errorMessage, ReportWindow, silentLogger, type Logger, type ReactorEvent } from "../core/index.js";
import { dispatchReaction, type DispatchPorts } from "./dispatch.js";
import { deriveJid, type ReactionLedger } from "./ledger.js";
import { MapIndex } from "./matcher.js";
import { renderReactions, type MineLookup } from "./render.js";
import type { Throttler } from "./throttle.js";
import { FloodGate } from "./flood.js";

/** The result of checking an event's sender. */
export type Verdict =
  | {
      readonly ok: true;
      /** Signed by a trusted key (service, admin): not flood-limited. */ readonly trusted?: boolean;
      /** The agent key that verified it: ids sharing one key share one flood bucket too. */ readonly key?: string;
    }
  | { readonly ok: false; readonly reason: string; readonly kind?: string };

/** The message an event came in, for signature checks (absent when an event is handled directly). */
export interface RawMessage {
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly seq: number;
}

/** Counters the engine keeps (exported as metrics by the service). */
export interface EngineCounters {
  received: number;
  matched: number;
  reactions: number;
  dispatched: number;
  failed: number;
  throttled: number;
  rejected: number;
  renderErrors: number;
  depthExceeded: number;
  duplicates: number;
  /** Events dropped by the per-source flood limit. */
  flooded: number;
  /** Messages of the stream that were not valid events (terminated, reported as `reactor/bus/invalid`). */
  invalid: number;
  /** Reactions refused because event data widened their target. */
  widened: number;
}

/** Tag of the summary of messages that could not be decoded as events. */
export const BUS_INVALID_TAG = "reactor/bus/invalid";
/** Tag of refused events (one by one up to 10 a second, then one summary a second). */
export const SECURITY_REJECTED_TAG = "reactor/security/rejected";

/** What the engine needs. */
export interface EngineDeps {
  readonly ledger: ReactionLedger;
  readonly throttler: Throttler;
  readonly ports: DispatchPorts;
  /** Publishes an audit event (`reactor/...`) with a deterministic id. */
  audit(tag: string, data: Record<string, unknown>, id: string, cause: ReactorEvent): Promise<void>;
  /** Publishes a summary event that has no single cause (`reactor/bus/invalid`, rejection summaries). */
  report?(tag: string, data: Record<string, unknown>): Promise<void>;
  verify?: (event: ReactorEvent, raw?: RawMessage) => Verdict | Promise<Verdict>;
  mine?: MineLookup;
  log?: Logger;
  /** Retries of a dispatch that failed on the bus. Default 3. */
  dispatchRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A compiled, swappable snapshot of the service configuration. */
export interface EngineConfig {
  readonly config: ServiceConfig;
  readonly index: MapIndex<ReactorMapEntry>;
}

/** Builds the snapshot the engine runs on (the matcher index is built once per config load). */
export function engineConfig(config: ServiceConfig): EngineConfig {
  return { config, index: new MapIndex(config.reactor) };
}

/** The engine; `reload` swaps the map between events, never in the middle of one. */
export class ReactorEngine {
  readonly counters: EngineCounters = {
    received: 0,
    matched: 0,
    reactions: 0,
    dispatched: 0,
    failed: 0,
    throttled: 0,
    rejected: 0,
    renderErrors: 0,
    depthExceeded: 0,
    duplicates: 0,
    flooded: 0,
    invalid: 0,
    widened: 0,
  };
  private flood: FloodGate;
  /** Refusals: the first 10 a second are reported one by one, the rest in one summary a second. */
  private readonly rejections = new ReportWindow({ detailed: 10 });
  /** Undecodable messages: summaries only. */
  private readonly junk = new ReportWindow({ detailed: 0 });
  private current: EngineConfig;
  private readonly log: Logger;

  constructor(
    cfg: EngineConfig,
    private readonly deps: EngineDeps,
  ) {
    this.current = cfg;
    this.log = deps.log ?? silentLogger;
    this.flood = new FloodGate(cfg.config.limits.per_source_rate, cfg.config.limits.per_source_burst);
  }

  reload(cfg: EngineConfig): void {
    const l = cfg.config.limits;
    if (
      l.per_source_rate !== this.current.config.limits.per_source_rate ||
      l.per_source_burst !== this.current.config.limits.per_source_burst
    ) {
      this.flood = new FloodGate(l.per_source_rate, l.per_source_burst);
    }
    this.current = cfg;
  }

  get config(): ServiceConfig {
    return this.current.config;
  }

  /** Counts a message of the stream that is not a valid event (already terminated by the bus). */
  noteInvalid(kind: string, subject: string): void {
    this.counters.invalid++;
    // the subject's first two tokens say where junk arrives without echoing the sender's bytes at length
    this.junk.note(kind, subject.split(".").slice(0, 3).join(".").slice(0, 80));
  }

  /**
   * Publishes what was summed up since the last call: one `reactor/bus/invalid` and one
   * `reactor/security/rejected` summary at most. The service calls it once a second.
   */
  async flushReports(): Promise<void> {
    const report = this.deps.report;
    const junk = this.junk.drain();
    const rejected = this.rejections.drain();
    if (!report) return;
    if (junk) {
      this.log.warn({ ...junk }, "messages that are not valid events were terminated");
      await report(BUS_INVALID_TAG, { count: junk.count, by_kind: junk.by_kind, subjects: junk.by_source, first_at: junk.first_at, last_at: junk.last_at });
    }
    if (rejected) {
      this.log.warn({ ...rejected }, "events rejected (summary)");
      await report(SECURITY_REJECTED_TAG, { summary: true, ...rejected });
    }
  }

  /** Handles one event completely. Throws only when the bus failed (the caller redelivers). */
  async handle(event: ReactorEvent, raw?: RawMessage): Promise<void> {
    const { config, index } = this.current;
    this.counters.received++;
    const own = event.tag.startsWith("reactor/");
    const audit = (kind: string, data: Record<string, unknown>, suffix = kind) =>
      own
        ? Promise.resolve()
        : this.deps.audit(
            `reactor/event/${event.id}/${kind}`,
            { event_id: event.id, tag: event.tag, ...data },
            `${event.id}/${suffix}`,
            event,
          );

    // Matching is cheap and side-effect free; the signature check (~200 us) is paid only by events
    // that would cause something (not by audit events, job returns and the like).
    const matched = index.match(event);
    if (matched.length === 0) return;
    const verdict: Verdict = this.deps.verify ? await this.deps.verify(event, raw) : { ok: true };
    if (!verdict.ok) {
      this.counters.rejected++;
      // Rate-limited: a flood of refused events costs at most 10 reports and one summary a second.
      if (!this.rejections.note(verdict.kind ?? "rejected", event.source.slice(0, 80))) return;
      this.log.warn(
        { event_id: event.id, tag: event.tag, source: event.source, reason: verdict.reason },
        "event rejected",
      );
      // Reported even for reactor/ tags: a forged engine event is exactly what this must show.
      await this.deps.audit(
        SECURITY_REJECTED_TAG,
        {
          event_id: event.id,
          tag: event.tag,
          source: event.source,
          kind: verdict.kind ?? "rejected",
          reason: verdict.reason,
        },
        `${event.id}/rejected`,
        event,
      );
      return;
    }
    if (!verdict.trusted) {
      // Per id, and per signing key: ten ids registered with one key share one bucket.
      const byId = this.flood.take(event.source);
      const gate = byId.ok && verdict.key !== undefined ? this.flood.take(`key:${verdict.key}`) : byId;
      if (!gate.ok) {
        this.counters.flooded++;
        if (gate.report !== undefined) {
          this.log.warn(
            { source: event.source, dropped: gate.report },
            "flood from one source: events dropped",
          );
          await this.deps.audit(
            `reactor/source/${event.source}/flood`,
            {
              source: event.source,
              dropped: gate.report,
              rate: config.limits.per_source_rate,
              burst: config.limits.per_source_burst,
              // "key": the key's bucket, shared by every id accepted with that key, was empty
              limited_by: byId.ok ? "key" : "id",
              ...(byId.ok && verdict.key !== undefined ? { key: verdict.key } : {}),
              last_event_id: event.id,
            },
            `${event.id}/flood`,
            event,
          );
        }
        return;
      }
    }
    if (event.depth > config.limits.max_depth) {
      // Only a chain that would go on is stopped: an event that matches nothing ends it anyway.
      this.counters.depthExceeded++;
      await audit("error", {
        reason: `causation chain of depth ${event.depth} is deeper than limits.max_depth ${config.limits.max_depth}; reactions stopped`,
        causation_id: event.causationId ?? null,
      });
      return;
    }
    this.counters.matched++;
    const admitted = await this.throttle(event, matched, audit);
    if (admitted.length === 0) return;
    const rendered = renderReactions(event, admitted, this.deps.mine ? { mine: this.deps.mine } : {});
    if (rendered.errors.length > 0) {
      this.counters.renderErrors += rendered.errors.length;
      await audit("error", { errors: rendered.errors });
    }
    if (rendered.widened.length > 0) {
      this.counters.widened += rendered.widened.length;
      this.log.warn({ event_id: event.id, tag: event.tag, source: event.source, refused: rendered.widened.map((w) => w.message) }, "event data widened a target: reactions refused");
      // Reported even for reactor/ tags; once per event (the flood gate bounds events per source).
      await this.deps.audit(
        "reactor/security/target-widening",
        { event_id: event.id, tag: event.tag, source: event.source, refused: rendered.widened },
        `${event.id}/target-widening`,
        event,
      );
    }
    // Audit events are published concurrently with the dispatch and awaited before handle() returns
    // (so before the ack): recorded, without a round trip each on the event's critical path.
    const recorded: Promise<void>[] = [];
    recorded.push(
      audit("matched", {
        entries: admitted.map((e) => e.name),
        reactions: rendered.reactions.map((r) => ({ id: r.id, file: r.file, fun: `${r.client}.${r.fun}` })),
        warnings: rendered.warnings.map((w) => w.message),
      }),
    );
    for (const r of rendered.reactions) {
      this.counters.reactions++;
      const jid = deriveJid(event.id, r.id, event.stamp);
      if ((await this.deps.ledger.claim(event.id, r.id, { jid, fun: `${r.client}.${r.fun}` })) === "done") {
        this.counters.duplicates++;
        continue;
      }
      let outcome;
      try {
        outcome = await this.dispatchWithRetry(r, event, jid);
      } catch (err) {
        await Promise.allSettled(recorded);
        throw err;
      }
      await this.deps.ledger.finish(event.id, r.id, {
        state: outcome.ok ? "dispatched" : "failed",
        jid,
        fun: `${r.client}.${r.fun}`,
        ...(outcome.targets ? { targets: outcome.targets } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      });
      if (outcome.ok) this.counters.dispatched++;
      else this.counters.failed++;
      recorded.push(
        audit(
          "dispatched",
          {
            reaction: r.id,
            file: r.file,
            fun: `${r.client}.${r.fun}`,
            // the target as rendered (what `reactor test --replay` compares), beside the agents it chose
            tgt: r.tgt ?? null,
            tgt_type: r.tgt_type ?? null,
            jid,
            ok: outcome.ok,
            targets: outcome.targets ?? null,
            error: outcome.error ?? null,
          },
          `dispatched/${r.id}`,
        ),
      );
    }
    await Promise.all(recorded);
  }

  private async throttle(
    event: ReactorEvent,
    matched: readonly ReactorMapEntry[],
    audit: (kind: string, data: Record<string, unknown>, suffix?: string) => Promise<void>,
  ): Promise<ReactorMapEntry[]> {
    const out: ReactorMapEntry[] = [];
    for (const e of matched) {
      if (!e.throttle) {
        out.push(e);
        continue;
      }
      let key: string;
      try {
        key = e.throttle.renderKey({ tag: event.tag, data: event.data });
      } catch (err) {
        await audit(
          "error",
          { entry: e.name, reason: `throttle key: ${errorMessage(err)}` },
          `error/throttle/${e.index}`,
        );
        continue;
      }
      if (await this.deps.throttler.admit(e.name, key, e.throttle.max, e.throttle.per)) out.push(e);
      else {
        this.counters.throttled++;
        await audit(
          "dropped",
          { entry: e.name, reason: "throttled", key, max: e.throttle.max, per_seconds: e.throttle.per },
          `dropped/${e.index}`,
        );
      }
    }
    return out;
  }

  private async dispatchWithRetry(
    r: Parameters<typeof dispatchReaction>[0],
    event: ReactorEvent,
    jid: string,
  ) {
    const retries = this.deps.dispatchRetries ?? 3;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
    for (let attempt = 0; ; attempt++) {
      try {
        return await dispatchReaction(r, event, jid, this.deps.ports);
      } catch (err) {
        // The bus failed, not the reaction: give the event back for redelivery (the ledger keeps the
        // claim, so the same jid is dispatched again) rather than record a reaction as failed for good.
        if (attempt >= retries) throw new BusError(`dispatch of ${r.id} failed after ${retries + 1} attempts: ${errorMessage(err)}`, { cause: err });
        this.log.warn({ err: errorMessage(err), jid, attempt }, "dispatch failed; retrying");
        await sleep(200 * 2 ** attempt);
      }
    }
  }
}
