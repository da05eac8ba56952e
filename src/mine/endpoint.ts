/**
 * The service side of agents' mine reads: `reactor.mine.get` (queue group `reactor-mine`, so
 * replicas share it). With the generated NATS auth an agent may touch only its own mine keys, so its
 * `mine.get` asks here, and here the mine ACL (`allow_tgt`, Salt's `mine_get`) is enforced. A request
 * is answered only when it is signed by the accepted key of the agent it names, fresh (stamp within
 * the skew), not replayed (request id), and its reply subject is under that agent's inbox prefix
 * (which only that agent may subscribe to). Anything else is refused and logged.
 */
import type { Connection } from "../bus/index.js";
import {
  MINE_REQUEST_SUBJECT,
  MINE_SERVICE_QUEUE,
  ReplayGuard,
  agentInboxPrefix,
  fromBase64Url,
  mineRequestBytes,
  parseMineRequest,
  verifySignature,
  type AcceptedKeys,
  type MineRequest,
} from "../core/auth/index.js";
import { TARGET_TYPES, errorMessage, silentLogger, type Logger, type TargetType } from "../core/index.js";
import type { MineReader } from "./reader.js";
import { mineFilter, parseMineKey } from "./store.js";

/** Options of startMineEndpoint. */
export interface MineEndpointOptions {
  readonly conn: Connection;
  /** Reads the buckets (the service's reader, with the service's ACL settings). */
  readonly reader: MineReader;
  /** The accepted keys (id -> public key). */
  readonly keys: AcceptedKeys;
  /** Accepted clock difference, ms. Default 5 min. */
  readonly skewMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

/** A running endpoint. */
export interface MineEndpoint {
  /** Requests answered and refused so far. */
  readonly counts: { readonly answered: number; readonly refused: number };
  stop(): Promise<void>;
}

type Reply = { ok: true; return: unknown } | { ok: false; error: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Starts answering; resolves once the subscription is registered at the server. */
export async function startMineEndpoint(o: MineEndpointOptions): Promise<MineEndpoint> {
  const log = (o.log ?? silentLogger).child({ component: "mine-endpoint" });
  const now = o.now ?? Date.now;
  const skew = o.skewMs ?? 5 * 60_000;
  const seen = new ReplayGuard(10_000);
  const counts = { answered: 0, refused: 0 };

  /** Why a request is not answered, or undefined. */
  const refusal = (req: MineRequest, reply: string): string | undefined => {
    if (!reply.startsWith(`${agentInboxPrefix(req.id)}.`)) return `the reply subject must be under ${agentInboxPrefix(req.id)}`;
    const pub = o.keys.get(req.id);
    if (!pub) return `${req.id} is not an accepted agent`;
    const sig = fromBase64Url(req.sig);
    if (!sig || !verifySignature(pub, mineRequestBytes(req.id, req.op, req.args, req.stamp, req.request_id), sig)) {
      return `the request is not signed by the accepted key of ${req.id}`;
    }
    const stamp = Date.parse(req.stamp);
    if (Number.isNaN(stamp) || Math.abs(stamp - now()) > skew) return "the request is stale (check the clocks)";
    const replay = seen.check(req.request_id, stamp);
    if (replay) return replay;
    seen.remember(req.request_id, stamp);
    return undefined;
  };

  const answer = async (req: MineRequest): Promise<unknown> => {
    if (req.op === "names") {
      const keys = await o.reader.mine.keys(mineFilter({ agentId: req.id }));
      return keys.flatMap((k) => parseMineKey(k)?.fun ?? []).sort();
    }
    const { tgt, fun, tgt_type = "glob" } = req.args;
    if (!isTarget(tgt)) throw new Error("tgt must be a string or a list of strings");
    if (!isTarget(fun)) throw new Error("fun must be a string or a list of strings");
    if (!(TARGET_TYPES as readonly unknown[]).includes(tgt_type)) throw new Error(`tgt_type must be one of ${TARGET_TYPES.join(", ")}`);
    return o.reader.get(tgt, fun, tgt_type as TargetType, { requester: req.id });
  };

  const handle = async (data: Uint8Array, reply: string): Promise<Reply> => {
    let body: unknown;
    try {
      body = JSON.parse(dec.decode(data));
    } catch {
      return { ok: false, error: "request must be JSON" };
    }
    const req = parseMineRequest(body);
    if (typeof req === "string") return { ok: false, error: req };
    const why = refusal(req, reply);
    if (why) {
      log.warn({ id: req.id, op: req.op, reason: why }, "refused a mine request");
      return { ok: false, error: why };
    }
    try {
      return { ok: true, return: await answer(req) };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  };

  const sub = o.conn.nc.subscribe(MINE_REQUEST_SUBJECT, {
    queue: MINE_SERVICE_QUEUE,
    callback: (err, msg) => {
      if (err) return log.error({ err: errorMessage(err) }, "subscription error");
      if (!msg.reply) return;
      const reply = msg.reply;
      void (async () => {
        const r = await handle(msg.data, reply);
        if (r.ok) counts.answered++;
        else counts.refused++;
        try {
          msg.respond(enc.encode(JSON.stringify(r)));
        } catch (e) {
          log.warn({ err: errorMessage(e) }, "mine reply not sent");
        }
      })();
    },
  });
  await o.conn.nc.flush();
  let stopping: Promise<void> | undefined;
  return {
    counts,
    stop() {
      stopping ??= sub.drain().catch(() => undefined);
      return stopping;
    },
  };
}

function isTarget(v: unknown): v is string | string[] {
  return (typeof v === "string" && v !== "") || (Array.isArray(v) && v.every((x) => typeof x === "string"));
}
