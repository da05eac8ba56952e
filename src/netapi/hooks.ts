/**
 * Webhooks (Salt's salt-api `/hook`, minus its holes): `POST /hook/<path>` fires
 * `salt/netapi/hook/<path>` with `{body, post, headers}` and answers 202 `{"id": <event id>}`.
 * Every hook is authenticated (bearer token and/or HMAC signature over the raw body), rate limited
 * per (hook, client address), and bounded in size; nothing is fired unless all checks pass.
 * Requests that fail authentication draw on a bucket of their own per client address (429 once it
 * is empty), so a caller with a bad token never uses up the legitimate caller's bucket.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HookConfig, HttpConfig } from "../config/index.js";
import { compileTagGlob, type TagGlob } from "../core/glob/index.js";
import {
  BusError,
  EventTooLargeError,
  InvalidEventError,
  NetapiError,
  errorMessage,
  silentLogger,
  type EventSink,
  type Logger,
} from "../core/index.js";
import { bearerToken, safeEqual, verifySignature } from "./auth.js";
import { clientAddress, readBody, sendError, sendJson } from "./http-util.js";
import { RateLimiter } from "./rate-limit.js";

/** The tag prefix of webhook events. */
export const HOOK_TAG_PREFIX = "salt/netapi/hook/";
/** The URL prefix of webhooks. */
export const HOOK_URL_PREFIX = "/hook/";

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** What the webhook handler needs. */
export interface HookDeps {
  /** Publishes the event (resolves once stored). */
  readonly sink: EventSink;
  readonly log?: Logger;
  /** Clock for the rate limiter (ms). */
  readonly now?: () => number;
}

/** Handles one request whose path starts with `/hook/`. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Returns the hook path of a raw request URL (`/hook/github/push?x` -> `github/push`); 400 when unsafe. */
export function hookPath(rawUrl: string): string {
  const path = rawUrl.split("?")[0]!.slice(HOOK_URL_PREFIX.length);
  const segments = path.split("/");
  for (const s of segments) {
    if (s === "" || s === "." || s === ".." || !SEGMENT.test(s)) {
      throw new NetapiError(
        400,
        `invalid hook path ${JSON.stringify(path.slice(0, 200))}: each segment must be letters, digits, '.', '_' or '-', and not empty, '.' or '..'`,
      );
    }
  }
  return path;
}

/** Creates the `/hook/` handler for the configured hooks. */
export function createHookHandler(
  config: Pick<HttpConfig, "hooks" | "max_body" | "rate_limit">,
  deps: HookDeps,
): RequestHandler {
  const hooks = config.hooks.map((h) => ({ hook: h, glob: compileTagGlob(h.path) }));
  const limiter = new RateLimiter(config.rate_limit.per_minute, config.rate_limit.burst, 10_000, deps.now);
  const failedAuth = new RateLimiter(config.rate_limit.per_minute, config.rate_limit.burst, 10_000, deps.now);
  const log = deps.log ?? silentLogger;
  return async (req, res) => {
    try {
      const event = await handle(req, res, { hooks, limiter, failedAuth, maxBody: config.max_body, sink: deps.sink });
      log.info(
        { hook: event.hook, tag: event.tag, event_id: event.id, client: clientAddress(req) },
        "webhook fired",
      );
      sendJson(res, 202, { id: event.id });
    } catch (err) {
      if (err instanceof NetapiError)
        log.warn(
          {
            status: err.status,
            reason: err.message,
            client: clientAddress(req),
            url: req.url?.slice(0, 200),
          },
          "webhook refused",
        );
      else log.error({ err: errorMessage(err) }, "webhook failed");
      sendError(res, err);
    }
  };
}

interface HandleCtx {
  readonly hooks: readonly { hook: HookConfig; glob: TagGlob }[];
  readonly limiter: RateLimiter;
  /** Failed authentications, per client address (apart from the callers' buckets). */
  readonly failedAuth: RateLimiter;
  readonly maxBody: number;
  readonly sink: EventSink;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HandleCtx,
): Promise<{ id: string; tag: string; hook: string }> {
  if (req.method !== "POST")
    throw new NetapiError(405, `method ${req.method ?? ""} is not allowed; webhooks take POST`, {
      allow: "POST",
    });
  const path = hookPath(req.url ?? "");
  const found = ctx.hooks.find((h) => h.glob.test(path));
  if (!found) throw new NetapiError(404, `no hook is configured for ${JSON.stringify(path)}`);
  const client = clientAddress(req);
  const body = await readBody(req, res, ctx.maxBody);
  try {
    authenticate(req, body, found.hook);
  } catch (err) {
    const failed = ctx.failedAuth.take(client);
    if (!failed.ok)
      throw new NetapiError(429, `too many failed authentications from this address; retry after ${failed.retryAfterS} s`, {
        "retry-after": String(failed.retryAfterS),
      });
    throw err;
  }
  const rate = ctx.limiter.take(`${found.hook.path}\u0000${client}`);
  if (!rate.ok)
    throw new NetapiError(429, `too many requests to this hook; retry after ${rate.retryAfterS} s`, {
      "retry-after": String(rate.retryAfterS),
    });
  const tag = HOOK_TAG_PREFIX + path;
  const data = hookData(req, body, found.hook); // a malformed body is the caller's error (400), not the bus's
  try {
    const event = await ctx.sink.emit(tag, data);
    return { id: event.id, tag, hook: found.hook.path };
  } catch (err) {
    if (
      err instanceof EventTooLargeError ||
      (err instanceof BusError && err.cause instanceof EventTooLargeError)
    ) {
      throw new NetapiError(413, "the event is larger than the bus accepts");
    }
    if (err instanceof InvalidEventError) throw new NetapiError(400, err.message);
    throw new NetapiError(503, `the event could not be published: ${errorMessage(err)}`);
  }
}

/** Checks the hook's token and signature; 401 when either is configured and does not verify. */
function authenticate(req: IncomingMessage, body: Buffer, hook: HookConfig): void {
  if (hook.token !== undefined) {
    const given = bearerToken(req);
    if (given === undefined || !safeEqual(given, hook.token)) {
      throw new NetapiError(401, "missing or invalid bearer token", {
        "www-authenticate": 'Bearer realm="hook"',
      });
    }
  }
  if (hook.hmac) {
    const header = req.headers[hook.hmac.header];
    const value = Array.isArray(header) ? header[0] : header;
    if (!verifySignature(body, value, hook.hmac.secret, hook.hmac.algorithm)) {
      throw new NetapiError(401, `missing or invalid signature in ${hook.hmac.header}`);
    }
  }
}

/** Salt's hook data: the body (JSON parsed when JSON), form fields, and the headers minus secrets. */
export function hookData(req: IncomingMessage, raw: Buffer, hook: HookConfig): Record<string, unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  // As salt-api: `body` is the raw body, `post` the body deserialized (JSON, or form fields).
  const text = raw.toString("utf8");
  const body: unknown = text;
  let post: unknown = {};
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      post = text.length === 0 ? {} : (JSON.parse(text) as unknown);
    } catch (err) {
      throw new NetapiError(400, `the body is not valid JSON: ${errorMessage(err)}`);
    }
  } else if (type === "application/x-www-form-urlencoded") {
    post = formFields(text);
  }
  const headers: [string, string][] = [];
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || DROPPED_HEADERS.has(k) || k === hook.hmac?.header) continue;
    headers.push([k, Array.isArray(v) ? v.join(", ") : v]);
  }
  return { body, post, headers: Object.fromEntries(headers) };
}

/** Form fields; a repeated field becomes a list (as CherryPy gives Salt). */
function formFields(text: string): Record<string, unknown> {
  const out = new Map<string, string | string[]>();
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return Object.fromEntries(out);
}
