/** Calling key commands over NATS (the CLI side of `reactor.wheel.key`), signed by a trusted key. */
import { randomUUID } from "node:crypto";
import type { Connection } from "../bus/index.js";
import { WHEEL_KEY_SUBJECT, toBase64Url, wheelRequestBytes, type Signer, type WheelReply, type ProtocolError } from "../core/auth/index.js";
import { KeyCommandError, errorMessage } from "../core/errors.js";
import type { KeyCallResult } from "./wheel.js";

/** Calls `fun` on the key service; throws KeyCommandError when it refuses or does not answer. */
export async function callKeyCommand(
  conn: Connection,
  fun: string,
  kwarg: Readonly<Record<string, unknown>>,
  signer: Signer,
  opts: { timeoutMs?: number; now?: () => Date } = {},
): Promise<KeyCallResult> {
  const stamp = (opts.now ?? (() => new Date()))().toISOString();
  const request_id = randomUUID();
  const sig = toBase64Url(signer.sign(wheelRequestBytes(fun, kwarg, stamp, request_id)));
  const body = JSON.stringify({ fun, kwarg, stamp, request_id, pub: signer.publicKey, sig });
  let text: string;
  try {
    const msg = await conn.nc.request(WHEEL_KEY_SUBJECT, new TextEncoder().encode(body), { timeout: opts.timeoutMs ?? 10_000 });
    text = new TextDecoder().decode(msg.data);
  } catch (err) {
    throw new KeyCommandError(fun, `the key service did not answer on ${WHEEL_KEY_SUBJECT} (is \`reactor serve\` running?): ${errorMessage(err)}`, { cause: err });
  }
  const reply = JSON.parse(text) as WheelReply | ProtocolError;
  if (!reply.ok) throw new KeyCommandError(fun, reply.error);
  return { return: reply.return, success: reply.success, ...(reply.comment ? { comment: reply.comment } : {}) };
}
