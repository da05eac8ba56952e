/**
 * The HTTP listeners of the service (node:http): webhooks and the event stream on `http.listen`,
 * Prometheus metrics and health on `metrics.listen` (one listener when both name the same address).
 * Routes: `POST /hook/<path>`, `GET /events?tag=GLOB`, `GET /metrics`, `GET /healthz`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Connection, EventPublisher } from "../bus/index.js";
import { parseListen, type HttpConfig } from "../config/index.js";
import {
  ConfigError,
  createEvent,
  errorMessage,
  silentLogger,
  type EventSink,
  type Logger,
} from "../core/index.js";
import {
  busWatcher,
  createEventStreamHandler,
  createHookHandler,
  sendJson,
  type EventWatcher,
  type RequestHandler,
} from "../netapi/index.js";
import {
  consumerLag,
  createServiceMetrics,
  type ConsumerLag,
  type MetricsSource,
  type ServiceMetrics,
} from "./metrics.js";

/** The answer of a health check. */
export interface Health {
  /** 200 when healthy, 503 when not. */
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What one listener serves; absent routes answer 404. */
export interface HttpServerOptions {
  /** `host:port`; port 0 picks a free port. */
  readonly listen: string;
  readonly hooks?: RequestHandler;
  readonly events?: RequestHandler;
  readonly metrics?: MetricsSource & { observeRequest?(route: string, status: number): void };
  readonly health?: () => Promise<Health>;
  readonly log?: Logger;
}

/** A listening server. */
export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Closes the listener and every open connection (event streams too). Idempotent. */
  stop(): Promise<void>;
}

/** Starts one listener. */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const addr = parseListen(opts.listen);
  if (!addr)
    throw new ConfigError(
      { file: "<http>" },
      `listen address must be host:port, got ${JSON.stringify(opts.listen)}`,
    );
  const log = opts.log ?? silentLogger;
  const server = createServer((req, res) => {
    const route = routeOf(req);
    res.once("finish", () => opts.metrics?.observeRequest?.(route, res.statusCode));
    dispatch(route, req, res, opts).catch((err: unknown) => {
      log.error({ err: errorMessage(err), route }, "HTTP request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  log.info({ url: `http://${host}:${bound.port}` }, "HTTP listener started");
  let stopping: Promise<void> | undefined;
  return {
    host: bound.address,
    port: bound.port,
    url: `http://${host}:${bound.port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

type Route = "hook" | "events" | "metrics" | "healthz" | "other";

function routeOf(req: IncomingMessage): Route {
  const path = (req.url ?? "/").split("?")[0]!;
  if (path.startsWith("/hook/")) return "hook";
  if (path === "/events") return "events";
  if (path === "/metrics") return "metrics";
  if (path === "/healthz") return "healthz";
  return "other";
}

async function dispatch(
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  opts: HttpServerOptions,
): Promise<void> {
  const notFound = () =>
    sendJson(res, 404, { error: `no route for ${(req.url ?? "/").split("?")[0]!.slice(0, 200)}` });
  const getOnly = () => {
    if (req.method === "GET" || req.method === "HEAD") return true;
    sendJson(res, 405, { error: `method ${req.method ?? ""} is not allowed; use GET` }, { allow: "GET" });
    return false;
  };
  if (route === "hook" && opts.hooks) return opts.hooks(req, res);
  if (route === "events" && opts.events) return opts.events(req, res);
  if (route === "metrics" && opts.metrics) {
    if (!getOnly()) return;
    const text = await opts.metrics.text();
    res.writeHead(200, { "content-type": opts.metrics.contentType });
    res.end(text);
    return;
  }
  if (route === "healthz" && opts.health) {
    if (!getOnly()) return;
    const h = await opts.health();
    sendJson(res, h.status, h.body);
    return;
  }
  notFound();
}

/** The service's health: NATS answers a round trip, and the consumer's lag when it can be read. */
export function serviceHealth(
  conn: Connection,
  lag: () => Promise<ConsumerLag>,
  timeoutMs = 2000,
): () => Promise<Health> {
  return async () => {
    if (conn.nc.isClosed())
      return { status: 503, body: { status: "unavailable", nats: "closed", consumer: "unknown" } };
    try {
      await withTimeout(conn.nc.rtt(), timeoutMs);
    } catch {
      return { status: 503, body: { status: "unavailable", nats: "disconnected", consumer: "unknown" } };
    }
    let consumer: Record<string, unknown> | string;
    try {
      const l = await withTimeout(lag(), timeoutMs);
      consumer = { pending: l.pending, ack_pending: l.ackPending };
    } catch (err) {
      consumer = `unavailable: ${errorMessage(err)}`;
    }
    return { status: 200, body: { status: "ok", nats: "connected", consumer } };
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** What the service's HTTP side needs. */
export interface ServiceHttpOptions {
  readonly conn: Connection;
  /** The engine's counters (ReactorEngine.counters). */
  readonly counters: () => Readonly<Record<string, number>>;
  /** Publishes webhook events (source `netapi`). */
  readonly sink: EventSink;
  readonly stream: string;
  readonly durable: string;
  readonly maxEventBytes: number;
  /** The compiled `http:` section; absent = no webhooks, no event stream. */
  readonly http?: HttpConfig;
  /** `metrics.listen`; absent = no metrics and health listener. */
  readonly metricsListen?: string;
  /** How the event stream watches the bus. Default: an ordered consumer per client (busWatcher). */
  readonly watch?: EventWatcher;
  readonly log?: Logger;
}

/** The service's running HTTP side. */
export interface ServiceHttp {
  /** Present when `metrics.listen` is set; the service calls `observeHandling` per event. */
  readonly metrics?: ServiceMetrics;
  /** The listeners: `http` (webhooks, events) and `metrics` (may be the same server). */
  readonly http?: HttpServer;
  readonly metricsServer?: HttpServer;
  stop(): Promise<void>;
}

/** Starts the listeners the configuration asks for. */
export async function startServiceHttp(o: ServiceHttpOptions): Promise<ServiceHttp> {
  const log = (o.log ?? silentLogger).child({ component: "http" });
  const lag = consumerLag(o.conn, o.stream, o.durable);
  const metrics =
    o.metricsListen !== undefined ? createServiceMetrics({ counters: o.counters, lag }) : undefined;
  const web = o.http
    ? {
        hooks: createHookHandler(o.http, { sink: o.sink, log }),
        events: createEventStreamHandler({
          tokens: o.http.tokens,
          watch: o.watch ?? busWatcher(o.conn, o.stream, o.maxEventBytes, log),
          heartbeatMs: o.http.heartbeat * 1000,
          log,
        }),
      }
    : undefined;
  const ops = metrics ? { metrics, health: serviceHealth(o.conn, lag) } : undefined;
  const servers: HttpServer[] = [];
  try {
    const same = o.http && o.metricsListen !== undefined && o.http.listen === o.metricsListen;
    const httpServer = web
      ? await startHttpServer({ listen: o.http!.listen, log, ...web, ...(same ? ops : {}) })
      : undefined;
    if (httpServer) servers.push(httpServer);
    const metricsServer = same
      ? httpServer
      : ops
        ? await startHttpServer({ listen: o.metricsListen!, log, ...ops })
        : undefined;
    if (metricsServer && !same) servers.push(metricsServer);
    return {
      ...(metrics ? { metrics } : {}),
      ...(httpServer ? { http: httpServer } : {}),
      ...(metricsServer ? { metricsServer } : {}),
      stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
}

/** Serves an agent's metrics (and a trivial health check) on `listen`. */
export function startAgentMetricsServer(
  listen: string,
  metrics: MetricsSource,
  log?: Logger,
): Promise<HttpServer> {
  return startHttpServer({
    listen,
    metrics,
    health: async () => ({ status: 200, body: { status: "ok" } }),
    ...(log ? { log } : {}),
  });
}

/** An EventSink over a publisher: events created with `source` (default `netapi`), resolved once stored. */
export function publisherSink(publisher: EventPublisher, source = "netapi"): EventSink {
  return {
    async emit(tag, data, o = {}) {
      const event = createEvent({ tag, data, source, ...o });
      await publisher.publish(event);
      return event;
    },
  };
}
