/**
 * `reactor test --replay 2h -c new-reactor.yaml`: a backtest. Runs a reactor map over the events
 * stored in the EVENTS stream since a time and compares what it would fire with what the running
 * service did fire (its `reactor/event/<id>/dispatched` audit events in the same stream).
 *
 * Read-only: one ordered ephemeral consumer, deleted after; nothing is published, dispatched or
 * written to a bucket. The same match, throttle rule and render code as the live engine; throttles
 * are simulated in memory on the events' own times, and the depth limit applies. Not simulated:
 * signature checks (events the service refused are left out, as it refused them), per-source flood
 * limits, and mine lookups (templates see an empty mine, as in `reactor test`).
 */
import type { ReactorMapEntry, ServiceConfig } from "../config/index.js";
import type { ReactorEvent } from "../core/index.js";
import { MapIndex, renderReactions } from "../reactor/index.js";
import type { Client } from "./client.js";
import { scanStored } from "./stream-scan.js";

/** One reaction as compared: the function (`client.fun`) and the target as rendered. */
export interface ReplayReaction {
  readonly fun: string;
  readonly tgt: string | null;
}

/** What replaying one event found (events that fire nothing either way are only counted). */
export interface ReplayEventLine {
  readonly event_id: string;
  readonly tag: string;
  readonly stamp: string;
  /** What the map given would fire for this event. */
  readonly would: readonly ReplayReaction[];
  /** What the service dispatched for it (dispatched audit events with `ok: true`). */
  readonly did: readonly ReplayReaction[];
  /** would - did. */
  readonly difference: number;
  /** Render errors of the map given (`file:line: message`). */
  readonly errors: readonly string[];
  /** Entries the simulated throttle held back. */
  readonly throttled: readonly string[];
}

/** One reaction's counts over the whole replay. */
export interface ReplayGroup extends ReplayReaction {
  readonly would: number;
  readonly did: number;
  readonly difference: number;
}

/** Totals of a replay. */
export interface ReplaySummary {
  readonly since: string;
  /** Events replayed (after `--filter`; the engine's own `reactor/` events are never replayed). */
  readonly events: number;
  /** Events that fired something either way (the ones with a line). */
  readonly events_with_reactions: number;
  /** Events the service refused (signature, key): left out. */
  readonly rejected: number;
  readonly would_fire: number;
  readonly did_fire: number;
  readonly difference: number;
  /** Dispatches the service attempted that failed (no agent matched...): not counted in did_fire. */
  readonly did_fail: number;
  readonly render_errors: number;
  readonly throttled: number;
  /** By reaction, largest absolute difference first. */
  readonly by_reaction: readonly ReplayGroup[];
}

/** Options of a replay. */
export interface ReplayOptions {
  readonly since: Date;
  /** Only events whose tag passes (a compiled tag glob). */
  readonly filter?: (tag: string) => boolean;
  /** Called with each event line as it is found (streamed output). */
  readonly onEvent?: (line: ReplayEventLine) => void;
}

interface Audit {
  did: ReplayReaction[];
  failed: number;
  rejected: boolean;
}

const keyOf = (r: ReplayReaction) => JSON.stringify([r.fun, r.tgt]);

/** Replays the stored history since `opts.since` on `config`'s map; returns the totals. */
export async function replayHistory(client: Client, config: ServiceConfig, opts: ReplayOptions): Promise<ReplaySummary> {
  const events: ReactorEvent[] = [];
  const audit = new Map<string, Audit>();
  const auditOf = (id: string): Audit => audit.get(id) ?? (audit.set(id, { did: [], failed: 0, rejected: false }), audit.get(id)!);
  await scanStored(client, "evt.>", opts.since, (e) => {
    if (!e.tag.startsWith("reactor/")) {
      if (!opts.filter || opts.filter(e.tag)) events.push(e);
      return;
    }
    const id = e.data["event_id"];
    if (typeof id !== "string") return;
    if (e.tag === "reactor/security/rejected") auditOf(id).rejected = true;
    else if (e.tag === `reactor/event/${id}/dispatched`) {
      const a = auditOf(id);
      if (e.data["ok"] === true) a.did.push({ fun: String(e.data["fun"]), tgt: tgtText(e.data["tgt"]) });
      else a.failed++;
    }
  });
  const sim = new SimulatedRun(config);
  const groups = new Map<string, { fun: string; tgt: string | null; would: number; did: number }>();
  const count = (r: ReplayReaction, field: "would" | "did") => {
    const g = groups.get(keyOf(r)) ?? { ...r, would: 0, did: 0 };
    g[field]++;
    groups.set(keyOf(r), g);
  };
  let withReactions = 0;
  let rejected = 0;
  let didFail = 0;
  let renderErrors = 0;
  let throttled = 0;
  for (const e of events) {
    const a = audit.get(e.id);
    if (a?.rejected) {
      rejected++;
      continue;
    }
    const would = sim.run(e);
    const did = a?.did ?? [];
    didFail += a?.failed ?? 0;
    renderErrors += would.errors.length;
    throttled += would.throttled.length;
    would.reactions.forEach((r) => count(r, "would"));
    did.forEach((r) => count(r, "did"));
    if (would.reactions.length === 0 && did.length === 0 && would.errors.length === 0) continue;
    withReactions++;
    opts.onEvent?.({
      event_id: e.id,
      tag: e.tag,
      stamp: e.stamp,
      would: would.reactions,
      did,
      difference: would.reactions.length - did.length,
      errors: would.errors,
      throttled: would.throttled,
    });
  }
  const byReaction = [...groups.values()]
    .map((g) => ({ ...g, difference: g.would - g.did }))
    .sort((x, y) => Math.abs(y.difference) - Math.abs(x.difference) || y.would + y.did - (x.would + x.did) || keyOf(x).localeCompare(keyOf(y)));
  const wouldFire = byReaction.reduce((n, g) => n + g.would, 0);
  const didFire = byReaction.reduce((n, g) => n + g.did, 0);
  return {
    since: opts.since.toISOString(),
    events: events.length,
    events_with_reactions: withReactions,
    rejected,
    would_fire: wouldFire,
    did_fire: didFire,
    difference: wouldFire - didFire,
    did_fail: didFail,
    render_errors: renderErrors,
    throttled,
    by_reaction: byReaction,
  };
}

function tgtText(tgt: unknown): string | null {
  if (tgt === null || tgt === undefined) return null;
  return typeof tgt === "string" ? tgt : JSON.stringify(tgt);
}

/**
 * The engine's decision for one event, without its side effects: match, depth limit, throttle
 * (fixed windows per entry and rendered key, as Throttler, clocked by the events' stamps), render.
 */
class SimulatedRun {
  private readonly index: MapIndex<ReactorMapEntry>;
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly config: ServiceConfig) {
    this.index = new MapIndex(config.reactor);
  }

  run(e: ReactorEvent): { reactions: ReplayReaction[]; errors: string[]; throttled: string[] } {
    const matched = this.index.match(e);
    if (matched.length === 0 || e.depth > this.config.limits.max_depth) return { reactions: [], errors: [], throttled: [] };
    const errors: string[] = [];
    const throttled: string[] = [];
    const admitted = matched.filter((entry) => {
      if (!entry.throttle) return true;
      let key: string;
      try {
        key = entry.throttle.renderKey({ tag: e.tag, data: e.data });
      } catch (err) {
        errors.push(`${entry.name}: throttle key: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
      if (this.admit(entry.name, key, entry.throttle.max, entry.throttle.per, Date.parse(e.stamp))) return true;
      throttled.push(entry.name);
      return false;
    });
    const rendered = renderReactions(e, admitted);
    errors.push(...rendered.errors.map((p) => `${p.file}${p.line === null ? "" : `:${p.line}`}: ${p.message}`));
    const reactions = rendered.reactions.map((r) => ({ fun: `${r.client}.${r.fun}`, tgt: tgtText(r.tgt) }));
    return { reactions, errors, throttled };
  }

  private admit(entry: string, key: string, max: number, perSeconds: number, now: number): boolean {
    const k = JSON.stringify([entry, key]);
    const cur = this.windows.get(k);
    if (!cur || now - cur.start >= perSeconds * 1000) {
      this.windows.set(k, { start: now, count: 1 });
      return true;
    }
    if (cur.count >= max) return false;
    cur.count++;
    return true;
  }
}

/** The human form of an event line. */
export function formatReplayLine(l: ReplayEventLine): string {
  const list = (rs: readonly ReplayReaction[]) => (rs.length ? rs.map((r) => (r.tgt === null ? r.fun : `${r.fun} ${r.tgt}`)).join(", ") : "nothing");
  const diff = l.difference === 0 ? "" : `  (${l.difference > 0 ? "+" : ""}${l.difference})`;
  const extra = [...l.throttled.map((t) => `throttled: ${t}`), ...l.errors.map((x) => `error: ${x}`)];
  return [`${l.stamp} ${l.tag} [${l.event_id}]`, `  would fire: ${list(l.would)}`, `  did fire:   ${list(l.did)}${diff}`, ...extra.map((x) => `  ${x}`)].join("\n");
}

/** The human form of the totals. */
export function formatReplaySummary(s: ReplaySummary): string {
  const sign = (n: number) => (n > 0 ? `+${n}` : String(n));
  const rows = s.by_reaction.map((g) => [g.tgt === null ? g.fun : `${g.fun} ${g.tgt}`, String(g.would), String(g.did), sign(g.difference)]);
  const head = ["reaction", "would fire", "did fire", "difference"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [`replayed ${s.events} event(s) since ${s.since}; ${s.events_with_reactions} fired something either way`];
  if (rows.length) out.push("", fmt(head), ...rows.map(fmt));
  out.push("", `total: would fire ${s.would_fire}, did fire ${s.did_fire}, difference ${sign(s.difference)}`);
  const notes = [
    s.throttled ? `${s.throttled} held back by throttles` : "",
    s.render_errors ? `${s.render_errors} render error(s)` : "",
    s.rejected ? `${s.rejected} event(s) the service refused (left out)` : "",
    s.did_fail ? `${s.did_fail} dispatch(es) that failed then (not counted as fired)` : "",
  ].filter(Boolean);
  if (notes.length) out.push(notes.join("; "));
  return out.join("\n");
}
