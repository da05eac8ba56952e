/**
 * The key service, run inside `reactor serve`: answers the handshake on `reactor.auth` and the key
 * commands on `reactor.wheel.key` (queue group `reactor-keys`, so replicas share the work).
 * Key commands must be signed by a trusted key (the service key or an admin key), recent, and not
 * replayed.
 */
import type { Connection } from "../bus/index.js";
import {
  AUTH_SUBJECT,
  KEY_SERVICE_QUEUE,
  ReplayGuard,
  WHEEL_KEY_SUBJECT,
  compileKeyPolicy,
  fromBase64Url,
  parseAuthRequest,
  parseWheelRequest,
  verifySignature,
  wheelRequestBytes,
  type KeyPolicyConfig,
  type WheelReply,
  type ProtocolError,
} from "../core/auth/index.js";
import { errorMessage, silentLogger, type Logger } from "../core/index.js";
import { createAuthHandler } from "./auth-handler.js";
import type { ServiceKey } from "./service-key.js";
import type { KeyStore } from "./store.js";
import { createKeyWheel, type EmitFn, type KeyWheel } from "./wheel.js";
import type { HandshakeLimits } from "./handshake-limit.js";

/** What the key service needs. */
export interface KeyServiceOptions {
  readonly conn: Connection;
  readonly store: KeyStore;
  /** The `keys:` section of reactor.yaml. */
  readonly policy: KeyPolicyConfig;
  readonly serviceKey: ServiceKey;
  /** Publishes `salt/auth` and `salt/key` (an EventSink's emit, signed by the service). */
  readonly emit: EmitFn;
  /** Called per deleted id: purge its `minions` and `mine` entries. */
  readonly onDelete?: (id: string) => Promise<void>;
  /** Public keys besides the service key allowed to run key commands (operators' CLI keys). */
  readonly adminKeys?: readonly string[];
  /** Seconds a pending agent waits between attempts. Default 10. */
  readonly retryS?: number;
  /** Limits on new ids in the handshake (`keys.max_pending`, `keys.new_id_*`). Default DEFAULT_HANDSHAKE_LIMITS. */
  readonly limits?: HandshakeLimits;
  /** Accepted clock difference of key commands, ms. Default 5 min. */
  readonly commandSkewMs?: number;
  readonly log?: Logger;
  readonly now?: () => Date;
}

/** A running key service. */
export interface KeyService {
  /** The wheel functions, for reactions (`wheel.key.accept`) and runners. */
  readonly wheel: KeyWheel;
  /** Stops answering; idempotent. */
  stop(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Starts answering on the two subjects. Resolves once the subscriptions are registered at the server. */
export async function startKeyService(o: KeyServiceOptions): Promise<KeyService> {
  const log = (o.log ?? silentLogger).child({ component: "keys" });
  const now = o.now ?? (() => new Date());
  const wheel = createKeyWheel({ store: o.store, emit: o.emit, ...(o.onDelete ? { onDelete: o.onDelete } : {}), now });
  const auth = createAuthHandler({ store: o.store, policy: compileKeyPolicy(o.policy), serviceKey: o.serviceKey, emit: o.emit, log, now, ...(o.retryS !== undefined ? { retryS: o.retryS } : {}), ...(o.limits ? { limits: o.limits } : {}) });
  const trusted = [o.serviceKey.publicKey, ...(o.adminKeys ?? [])];
  const seen = new ReplayGuard(10_000);
  const skew = o.commandSkewMs ?? 5 * 60_000;

  const onAuth = async (body: unknown): Promise<unknown> => {
    const req = parseAuthRequest(body);
    return typeof req === "string" ? { ok: false, error: req } : auth(req);
  };

  const onWheel = async (body: unknown): Promise<WheelReply | ProtocolError> => {
    const req = parseWheelRequest(body);
    if (typeof req === "string") return { ok: false, error: req };
    const sig = fromBase64Url(req.sig);
    if (!trusted.includes(req.pub) || !sig || !verifySignature(req.pub, wheelRequestBytes(req.fun, req.kwarg, req.stamp, req.request_id), sig)) {
      log.warn({ fun: req.fun, pub: req.pub }, "refused an unsigned or untrusted key command");
      return { ok: false, error: "key commands must be signed by the service key or an admin key" };
    }
    const stamp = Date.parse(req.stamp);
    if (Number.isNaN(stamp) || Math.abs(stamp - now().getTime()) > skew) return { ok: false, error: "key command is stale (check the clocks)" };
    const replay = seen.check(req.request_id, stamp);
    if (replay) return { ok: false, error: replay };
    seen.remember(req.request_id, stamp);
    const r = await wheel.call(req.fun, req.kwarg);
    log.info({ fun: req.fun, kwarg: req.kwarg, success: r.success }, "key command");
    return { ok: true, ...r };
  };

  const serve = (subject: string, handle: (body: unknown) => Promise<unknown>) =>
    o.conn.nc.subscribe(subject, {
      queue: KEY_SERVICE_QUEUE,
      callback: (err, msg) => {
        if (err) return log.error({ subject, err: errorMessage(err) }, "subscription error");
        void (async () => {
          let reply: unknown;
          try {
            reply = await handle(JSON.parse(dec.decode(msg.data)) as unknown);
          } catch (e) {
            log.error({ subject, err: errorMessage(e) }, "request failed");
            reply = { ok: false, error: errorMessage(e) };
          }
          if (msg.reply) msg.respond(enc.encode(JSON.stringify(reply)));
        })();
      },
    });
  const subs = [serve(AUTH_SUBJECT, onAuth), serve(WHEEL_KEY_SUBJECT, onWheel)];
  await o.conn.nc.flush();
  let stopping: Promise<void> | undefined;
  return {
    wheel,
    stop() {
      stopping ??= Promise.allSettled(subs.map((s) => s.drain())).then(() => undefined);
      return stopping;
    },
  };
}
