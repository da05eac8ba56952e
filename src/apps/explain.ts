/**
 * `reactor explain EVENT-ID`: why did (or didn't) an event fire? Finds the event in the stream,
 * replays the decision with the same pure code as `reactor test --explain` (on today's map), and
 * adds what really happened: audit events, the ledger's record of each reaction, a rejection.
 */
import { openKv } from "../bus/index.js";
import { scanStored } from "./stream-scan.js";
import type { ServiceConfig } from "../config/index.js";
import { encodeSegment, type ReactorEvent } from "../core/index.js";
import { dryRun, ReactionLedger, type DryRunResult, type LedgerRecord } from "../reactor/index.js";
import type { Client } from "./client.js";

/** What explain found. */
export interface Explanation {
  readonly event: Pick<ReactorEvent, "id" | "tag" | "source" | "stamp" | "depth" | "causationId" | "data">;
  /** The decision replayed on the current map (it may have changed since). */
  readonly replay: DryRunResult;
  /** Audit events the service published for this event, in order. */
  readonly audit: { tag: string; data: Record<string, unknown> }[];
  /** The ledger's record of each reaction: reaction id -> record. */
  readonly ledger: Record<string, LedgerRecord>;
  /** The verifier's reason when the event was refused. */
  readonly rejected?: { kind: string; reason: string };
}

/** Explains one event; undefined when no event with that id is in the stream since `since`. */
export async function explainEvent(client: Client, config: ServiceConfig, eventId: string, since: Date): Promise<Explanation | undefined> {
  let found: ReactorEvent | undefined;
  await scanStored(client, "evt.>", since, (e) => {
    if (e.id !== eventId) return false;
    found = e;
    return true;
  });
  if (!found) return undefined;
  const event = found;
  const audit: Explanation["audit"] = [];
  await scanStored(client, `evt.reactor.event.${encodeSegment(eventId)}.>`, since, (e) => void audit.push({ tag: e.tag, data: e.data }));
  let rejected: Explanation["rejected"];
  await scanStored(client, "evt.reactor.security.rejected", new Date(Date.parse(event.stamp) - 60_000), (e) => {
    if (e.data["event_id"] !== eventId) return false;
    rejected = { kind: String(e.data["kind"]), reason: String(e.data["reason"]) };
    return true;
  });
  const ledger = await new ReactionLedger(await openKv(client.conn, { bucket: "reactions", history: 1 })).forEvent(eventId);
  return {
    event: { id: event.id, tag: event.tag, source: event.source, stamp: event.stamp, depth: event.depth, data: event.data, ...(event.causationId ? { causationId: event.causationId } : {}) },
    replay: dryRun(config, event, { explain: true }),
    audit,
    ledger,
    ...(rejected ? { rejected } : {}),
  };
}

/**
 * ` (caused by ID, depth N)` for an event of a causation chain, ` (depth N)` when it carries a depth
 * but no cause (an old or hand-made event), and nothing for an event that no reaction caused.
 */
export function causeText(e: Pick<ReactorEvent, "depth" | "causationId">): string {
  if (e.causationId) return ` (caused by ${e.causationId}, depth ${e.depth})`;
  return e.depth ? ` (depth ${e.depth})` : "";
}

/** The explanation for people. */
export function formatExplanation(x: Explanation): string {
  const out: string[] = [];
  const e = x.event;
  out.push(`event ${e.id}`, `  tag:    ${e.tag}`, `  from:   ${e.source} at ${e.stamp}${causeText(e)}`);
  if (x.rejected) {
    out.push("", `REFUSED by the verifier (${x.rejected.kind}): ${x.rejected.reason}`, "Nothing was matched or run for it.");
    return out.join("\n");
  }
  const r = x.replay;
  out.push("", r.matches.length ? `matched ${r.matches.length} entr${r.matches.length === 1 ? "y" : "ies"} (replayed on the current map):` : "matched no entry of the current map:");
  for (const m of r.matches) out.push(`  + ${m.glob}  ->  ${m.sls.join(", ")}`);
  for (const n of r.explain?.not_matched ?? []) out.push(`  - ${n.name}: ${n.reason === "when" ? "condition false" : "tag does not match"}: ${n.detail}`);
  for (const err of r.errors) out.push(`  ! ${err.file}${err.line ? `:${err.line}` : ""}: ${err.message}`);
  out.push("", x.audit.length ? "what the service recorded:" : "the service recorded nothing for it (it matched nothing then, or has not handled it yet)");
  for (const a of x.audit) {
    const kind = a.tag.split("/").pop();
    const d = a.data;
    if (kind === "dispatched") out.push(`  dispatched ${String(d["reaction"])} (${String(d["fun"])}) jid ${String(d["jid"])}: ${d["ok"] ? `ok, targets ${JSON.stringify(d["targets"])}` : `FAILED: ${String(d["error"])}`}`);
    else if (kind === "dropped") out.push(`  dropped by ${String(d["entry"])}: ${String(d["reason"])} (key ${String(d["key"])}, max ${String(d["max"])} per ${String(d["per_seconds"])} s)`);
    else if (kind === "error") out.push(`  error: ${String(d["reason"] ?? JSON.stringify(d["errors"]))}`);
    else if (kind === "matched") out.push(`  matched ${JSON.stringify(d["entries"])}`);
  }
  const ids = Object.keys(x.ledger);
  if (ids.length) {
    out.push("", "ledger (exactly-once records):");
    for (const id of ids) {
      const l = x.ledger[id]!;
      out.push(`  ${id}: ${l.state} ${l.fun} jid ${l.jid}${l.error ? `: ${l.error}` : ""}`);
    }
  }
  return out.join("\n");
}
