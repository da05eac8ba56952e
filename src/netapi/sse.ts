/**
 * `GET /events?tag=GLOB`: events as Server-Sent Events to holders of a stream token. Each token
 * sees only the tags its globs allow (Salt streams everything to anyone with a token). One ordered
 * consumer per client, pre-filtered by subject, stopped when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { watchEvents, type Connection, type EventStream } from "../bus/index.js";
import type { StreamTokenConfig } from "../config/index.js";
import { compileTagGlob, type TagGlob } from "../core/glob/index.js";
import {
  NetapiError,
  errorMessage,
  silentLogger,
  subjectFilterForGlob,
  type Logger,
  type ReactorEvent,
} from "../core/index.js";
import { bearerToken, safeEqual } from "./auth.js";
import { requestUrl, sendError } from "./http-util.js";
import type { RequestHandler } from "./hooks.js";

/** Opens a live watch of events on a subject filter (new events only). */
export type EventWatcher = (subjectFilter: string) => Promise<EventStream>;

/** What the event stream handler needs. */
export interface EventStreamDeps {
  readonly tokens: readonly StreamTokenConfig[];
  readonly watch: EventWatcher;
  /** Milliseconds between heartbeat comments. Default 15 000. */
  readonly heartbeatMs?: number;
  readonly log?: Logger;
}

interface Holder {
  readonly name: string;
  readonly token: string;
  readonly globs: readonly TagGlob[];
}

/** A watcher over the EVENTS stream of `conn` (ordered consumer, new events only). */
export function busWatcher(
  conn: Connection,
  stream: string,
  maxEventBytes: number,
  log: Logger = silentLogger,
): EventWatcher {
  return (filter) =>
    watchEvents(conn, stream, {
      filter,
      start: { kind: "new" },
      maxEventBytes,
      onInvalid: (bad) =>
        log.warn(
          { subject: bad.subject, seq: bad.seq, reason: bad.reason },
          "event stream skipped an invalid message",
        ),
    });
}

/** The SSE message of one event. */
export function sseMessage(event: ReactorEvent): string {
  const data = { tag: event.tag, data: event.data, id: event.id, stamp: event.stamp, source: event.source };
  return `event: ${event.tag}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Creates the `/events` handler. */
export function createEventStreamHandler(deps: EventStreamDeps): RequestHandler {
  const holders: Holder[] = deps.tokens.map((t) => ({
    name: t.name,
    token: t.token,
    globs: t.tags.map((g) => compileTagGlob(g)),
  }));
  const log = deps.log ?? silentLogger;
  return async (req, res) => {
    let holder: Holder;
    let glob: TagGlob;
    let stream: EventStream;
    try {
      if (req.method !== "GET")
        throw new NetapiError(405, `method ${req.method ?? ""} is not allowed; the event stream takes GET`, {
          allow: "GET",
        });
      holder = authorise(req, holders);
      glob = queryGlob(req);
      stream = await deps.watch(subjectFilterForGlob(glob)).catch((err: unknown) => {
        throw new NetapiError(503, `the event bus is not available: ${errorMessage(err)}`);
      });
    } catch (err) {
      sendError(res, err);
      return;
    }
    log.info({ token: holder.name, glob: glob.pattern }, "event stream opened");
    await pump(
      req,
      res,
      stream,
      (tag) => glob.test(tag) && holder.globs.some((g) => g.test(tag)),
      deps.heartbeatMs ?? 15_000,
    );
    log.info({ token: holder.name, glob: glob.pattern }, "event stream closed");
  };
}

function authorise(req: IncomingMessage, holders: readonly Holder[]): Holder {
  const given = bearerToken(req);
  // Compare with every token, so the time taken does not say which one is close.
  let found: Holder | undefined;
  for (const h of holders) if (given !== undefined && safeEqual(given, h.token) && !found) found = h;
  if (!found)
    throw new NetapiError(401, "missing or invalid bearer token", {
      "www-authenticate": 'Bearer realm="events"',
    });
  return found;
}

function queryGlob(req: IncomingMessage): TagGlob {
  const pattern = requestUrl(req).searchParams.get("tag") ?? "*";
  try {
    return compileTagGlob(pattern === "" ? "*" : pattern);
  } catch (err) {
    throw new NetapiError(400, errorMessage(err));
  }
}

/** Writes events until the client disconnects; then stops the consumer. */
async function pump(
  req: IncomingMessage,
  res: ServerResponse,
  stream: EventStream,
  allowed: (tag: string) => boolean,
  heartbeatMs: number,
): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write(": connected\n\n");
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs);
  heartbeat.unref();
  let closed = false;
  const stop = () => {
    closed = true;
    clearInterval(heartbeat);
    void stream.stop();
  };
  res.once("close", stop);
  req.once("close", () => res.destroyed && stop());
  try {
    for await (const d of stream) {
      if (closed) break;
      if (!allowed(d.event.tag)) continue;
      if (!res.write(sseMessage(d.event))) await drained(res);
    }
  } finally {
    stop();
    if (!res.writableEnded) res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
