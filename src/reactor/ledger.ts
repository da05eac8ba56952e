/**
 * The reactions ledger (KV `reactions`): one record per (event id, reaction id), so a reaction runs
 * once per matching event whatever crashes or redeliveries happen. Job ids are derived from the same
 * pair, so a dispatch repeated after a crash publishes the same jid, which JetStream (Nats-Msg-Id)
 * and the agent's job ledger both de-duplicate.
 */
import { createHash } from "node:crypto";
import { kvKey, kvKeyParts, type JsonKv } from "../bus/index.js";

/** What the ledger knows of one reaction of one event. */
export interface LedgerRecord {
  /** `claimed` before dispatch, `dispatched` after, `failed` when dispatch gave up. */
  readonly state: "claimed" | "dispatched" | "failed";
  readonly jid: string;
  readonly fun: string;
  readonly at: string;
  readonly targets?: readonly string[];
  readonly error?: string;
}

/** Deterministic job id for (event id, reaction id): Salt's 20-digit time from the event stamp + a hash. */
export function deriveJid(eventId: string, reactionId: string, stamp: string): string {
  const t = new Date(stamp);
  const d = Number.isNaN(t.getTime()) ? new Date(0) : t;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const time =
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}000`;
  const hash = createHash("sha256").update(eventId).update("\0").update(reactionId).digest("hex").slice(0, 12);
  return `${time}_${hash}`;
}

/** The ledger over a KV bucket. */
export class ReactionLedger {
  constructor(private readonly kv: JsonKv<LedgerRecord>) {}

  static key(eventId: string, reactionId: string): string {
    return kvKey(eventId, reactionId);
  }

  /**
   * Claims a reaction before dispatch. Returns `run` for a first claim (or a claim left by a crash
   * before dispatch finished: dispatching again is safe, the jid is the same), `done` when it was
   * already dispatched or failed for good.
   */
  async claim(eventId: string, reactionId: string, rec: Omit<LedgerRecord, "state" | "at">): Promise<"run" | "done"> {
    const key = ReactionLedger.key(eventId, reactionId);
    const created = await this.kv.create(key, { ...rec, state: "claimed", at: new Date().toISOString() });
    if (created !== undefined) return "run";
    const existing = await this.kv.get(key);
    return existing && existing.value.state !== "claimed" ? "done" : "run";
  }

  async finish(eventId: string, reactionId: string, rec: Omit<LedgerRecord, "at">): Promise<void> {
    await this.kv.put(ReactionLedger.key(eventId, reactionId), { ...rec, at: new Date().toISOString() });
  }

  async get(eventId: string, reactionId: string): Promise<LedgerRecord | undefined> {
    return (await this.kv.get(ReactionLedger.key(eventId, reactionId)))?.value;
  }

  /** Every record of one event: reaction id -> record. */
  async forEvent(eventId: string): Promise<Record<string, LedgerRecord>> {
    const out: Record<string, LedgerRecord> = {};
    for (const e of await this.kv.entries(`${kvKey(eventId)}.>`)) {
      const reactionId = kvKeyParts(e.key)[1];
      if (reactionId !== undefined) out[reactionId] = e.value;
    }
    return out;
  }
}
