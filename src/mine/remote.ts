/**
 * The agent side of `reactor.mine.get` (src/mine/endpoint.ts): mine reads signed by the agent's key
 * and answered by the service under the mine ACL, and the names this agent stored (for mine.flush).
 */
import { randomUUID } from "node:crypto";
import type { Connection } from "../bus/index.js";
import { MINE_REQUEST_SUBJECT, mineRequestBytes, toBase64Url, type MineRequestOp, type Signer } from "../core/auth/index.js";
import { AuthError, BusError, errorMessage, type TargetType } from "../core/index.js";
import { compileTarget } from "../core/targeting/index.js";

/** Options of createMineClient. */
export interface MineClientOptions {
  readonly conn: Connection;
  readonly agentId: string;
  /** The agent's accepted key. */
  readonly signer: Signer;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

/** mine.get through the service. */
export interface MineClient {
  /** As MineReader.get, read as this agent (the service applies the ACL). Throws TargetSyntaxError, AuthError, BusError. */
  get(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType): Promise<Record<string, unknown>>;
  /** The names this agent has values stored under. */
  names(): Promise<string[]>;
}

/** Creates the client. */
export function createMineClient(o: MineClientOptions): MineClient {
  const call = async (op: MineRequestOp, args: Record<string, unknown>): Promise<unknown> => {
    const stamp = (o.now ?? (() => new Date()))().toISOString();
    const request_id = randomUUID();
    const sig = toBase64Url(o.signer.sign(mineRequestBytes(o.agentId, op, args, stamp, request_id)));
    const body = JSON.stringify({ op, id: o.agentId, args, stamp, request_id, sig });
    let text: string;
    try {
      const msg = await o.conn.nc.request(MINE_REQUEST_SUBJECT, new TextEncoder().encode(body), { timeout: o.timeoutMs ?? 10_000 });
      text = new TextDecoder().decode(msg.data);
    } catch (err) {
      throw new BusError(`the reactor service did not answer on ${MINE_REQUEST_SUBJECT} (is \`reactor serve\` running?): ${errorMessage(err)}`, { cause: err });
    }
    const reply = JSON.parse(text) as { ok: true; return: unknown } | { ok: false; error: string };
    if (!reply.ok) throw new AuthError(`mine ${op} refused by the reactor service: ${reply.error}`);
    return reply.return;
  };
  return {
    async get(tgt, fun, tgtType = "glob") {
      compileTarget(tgt, tgtType); // a bad target fails here, with its position
      return (await call("get", { tgt, fun, tgt_type: tgtType })) as Record<string, unknown>;
    },
    async names() {
      const r = await call("names", {});
      return Array.isArray(r) ? r.filter((x): x is string => typeof x === "string") : [];
    },
  };
}
