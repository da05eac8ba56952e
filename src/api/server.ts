/**
 * salt-api's rest_cherrypy interface on fastify (routing, body limits, form and JSON bodies,
 * websockets; fastify and its plugins live here only). Paths, bodies, status codes and answers are
 * Salt's (docs/api.md); every request is authorised by the ACL before anything is published, and
 * refusals are audited (`reactor/api/refused`) and rate-limited per user and per address.
 */
import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import formbody from "@fastify/formbody";
import websocket from "@fastify/websocket";
import { toYaml, type ApiConfig } from "../config/index.js";
import { ApiError, errorMessage, silentLogger, type Logger, type ReactorEvent } from "../core/index.js";
import { Authenticator, type Session } from "./auth.js";
import { JobCache, maysee } from "./events.js";
import { jobInfo, runChunk, type Caller } from "./lowstate.js";
import { specCheck } from "./acl.js";
import { tarball } from "./tar.js";
import type { ApiPorts, EventFeed } from "./ports.js";

/** A running API. */
export interface ApiServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Routes handled before fastify reads the body (today's webhooks keep their own handler). */
export type RawRoute = (req: FastifyRequest["raw"], res: FastifyReply["raw"]) => Promise<void>;

/** Starts the API on `rest_cherrypy.host:port`; `raw` maps a path prefix to a handler served as is. */
export async function startApiServer(
  config: ApiConfig,
  ports: ApiPorts,
  opts: { log?: Logger; raw?: Readonly<Record<string, RawRoute>> } = {},
): Promise<ApiServer> {
  const log = opts.log ?? silentLogger;
  const rest = config.rest;
  const app = Fastify({
    bodyLimit: rest.max_request_body_size,
    ...(rest.disable_ssl
      ? {}
      : { https: { cert: readFileSync(rest.ssl_crt!), key: readFileSync(rest.ssl_key!) } }),
  }) as unknown as FastifyInstance;
  const auth = new Authenticator(config);
  const jobs = new JobCache();
  const refusals = new Refusals(rest.auth_rate_per_minute);
  const stats = { started: Date.now(), requests: 0 };
  const feeds = new Set<EventFeed>();
  const jobFeed = await ports.watch("salt/job/*");
  void (async () => {
    for await (const e of jobFeed) jobs.observe(e);
  })().catch((err: unknown) => log.warn({ err: errorMessage(err) }, "the API's job cache stopped"));

  await app.register(formbody);
  await app.register(websocket);

  app.addHook("onRequest", async (req, reply) => {
    stats.requests++;
    if (rest.cors_origin) cors(req, reply, rest.cors_origin);
    const path = req.url.split("?")[0]!;
    for (const [prefix, handler] of Object.entries(opts.raw ?? {})) {
      if (path === prefix || path.startsWith(`${prefix}/`)) {
        reply.hijack();
        await handler(req.raw, reply.raw);
        return;
      }
    }
    if (req.method === "OPTIONS" && rest.cors_origin) return reply.code(200).send("");
  });

  const session = (req: FastifyRequest): Session | undefined => auth.get(tokenOf(req));
  const caller = (s: Session): Caller => ({ name: s.name, authList: auth.authList(s) });
  const refuse = async (
    req: FastifyRequest,
    status: number,
    message: string,
    user?: string,
  ): Promise<never> => {
    const who = user ?? "";
    const limited = !refusals.allow(`addr:${req.ip}`) || (who !== "" && !refusals.allow(`user:${who}`));
    await ports
      .audit(`reactor/api/refused`, {
        user: who,
        address: req.ip,
        path: req.url.split("?")[0]!.slice(0, 200),
        status,
        reason: message.slice(0, 300),
      })
      .catch(() => undefined);
    if (limited) throw new ApiError(429, "Too many refused requests; try again in a minute");
    throw new ApiError(status, message);
  };
  const needSession = async (req: FastifyRequest): Promise<Session> =>
    session(req) ?? refuse(req, 401, "No permission -- see authorization schemes");
  const guard = async (req: FastifyRequest, fn: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 401)) {
        const s = session(req);
        return refuse(req, err.status, err.message, s?.name);
      }
      throw err;
    }
  };
  const lowstate = (body: unknown): Record<string, unknown>[] => {
    const list = Array.isArray(body) ? body : body && typeof body === "object" ? [body] : undefined;
    if (!list || !list.every((c) => c && typeof c === "object" && !Array.isArray(c)))
      throw new ApiError(400, "Lowstates must be a list");
    return list as Record<string, unknown>[];
  };

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof ApiError)
      return answer(req, reply, err.status, { status: err.status, return: err.message });
    const e = err as { statusCode?: number; message?: string };
    if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500)
      return answer(req, reply, e.statusCode, { status: e.statusCode, return: e.message ?? "Bad request" });
    log.error({ err: errorMessage(err), path: req.url.split("?")[0] }, "API request failed");
    return answer(req, reply, 500, {
      status: 500,
      return: rest.debug ? String((err as Error).stack ?? err) : "An unexpected error occurred",
    });
  });

  app.get("/", async (req, reply) =>
    answer(req, reply, 200, { return: "Welcome", clients: config.netapi_enable_clients }),
  );

  app.post("/login", async (req, reply) => {
    const body = (lowstate(req.body)[0] ?? {}) as Record<string, unknown>;
    const s = await auth.login(body);
    if (!s)
      return refuse(
        req,
        401,
        "Could not authenticate using provided credentials",
        typeof body["username"] === "string" ? body["username"] : undefined,
      );
    void reply
      .header("X-Auth-Token", s.token)
      .header(
        "Set-Cookie",
        `session_id=${s.token}; expires=${new Date(s.expire * 1000).toUTCString()}; Path=/; HttpOnly${rest.disable_ssl ? "" : "; Secure"}`,
      );
    return answer(req, reply, 200, {
      return: [
        {
          token: s.token,
          expire: s.expire,
          start: s.start,
          user: s.name,
          eauth: s.eauth,
          perms: auth.perms(s),
        },
      ],
    });
  });

  app.post("/logout", async (req, reply) => {
    await needSession(req);
    auth.logout(tokenOf(req));
    void reply.header("Set-Cookie", "session_id=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/");
    return answer(req, reply, 200, { return: "Your token has been cleared" });
  });

  app.post("/", async (req, reply) => {
    const s = await needSession(req);
    const chunks = lowstate(req.body);
    const out: unknown[] = [];
    for (const chunk of chunks)
      out.push(await guard(req, () => runChunk(chunk, caller(s), config, ports, jobs)));
    return answer(req, reply, 200, { return: out });
  });

  app.post("/run", async (req, reply) => {
    const out: unknown[] = [];
    for (const chunk of lowstate(req.body)) {
      const s = typeof chunk["token"] === "string" ? auth.get(chunk["token"]) : await auth.login(chunk);
      if (!s)
        return refuse(
          req,
          401,
          "No authentication credentials given or they were refused",
          typeof chunk["username"] === "string" ? chunk["username"] : undefined,
        );
      out.push(await guard(req, () => runChunk(chunk, caller(s), config, ports, jobs)));
    }
    return answer(req, reply, 200, { return: out });
  });

  const minions = async (req: FastifyRequest<{ Params: { mid?: string } }>, reply: FastifyReply) => {
    const s = await needSession(req);
    const ret = await guard(req, () =>
      runChunk(
        { client: "local", tgt: req.params.mid ?? "*", fun: "grains.items" },
        caller(s),
        { ...config, netapi_enable_clients: ["local"] },
        ports,
        jobs,
      ),
    );
    return answer(req, reply, 200, { return: [ret] });
  };
  app.get("/minions", minions);
  app.get("/minions/:mid", minions);
  app.post("/minions", async (req, reply) => {
    const s = await needSession(req);
    const out: unknown[] = [];
    for (const chunk of lowstate(req.body))
      out.push(
        await guard(req, () =>
          runChunk(
            { ...chunk, client: "local_async" },
            caller(s),
            { ...config, netapi_enable_clients: ["local_async"] },
            ports,
            jobs,
          ),
        ),
      );
    const first = out[0] as { jid?: string } | undefined;
    return answer(req, reply, 202, {
      return: out,
      _links: { jobs: out.map((j) => ({ href: `/jobs/${(j as { jid?: string }).jid ?? ""}` })) },
      ...(first ? {} : {}),
    });
  });

  const jobsRoute = async (req: FastifyRequest<{ Params: { jid?: string } }>, reply: FastifyReply) => {
    const s = await needSession(req);
    const c = caller(s);
    const jid = req.params.jid;
    await guard(req, () =>
      runChunk(
        { client: "runner", fun: jid ? "jobs.list_job" : "jobs.list_jobs", ...(jid ? { jid } : {}) },
        c,
        { ...config, netapi_enable_clients: ["runner"] },
        ports,
        jobs,
      ),
    );
    if (!jid)
      return answer(req, reply, 200, {
        return: [Object.fromEntries(jobs.list().map((j) => [j.jid, jobInfo(j)]))],
      });
    const j = jobs.get(jid);
    const result = j ? Object.fromEntries(Object.entries(j.returns).map(([id, r]) => [id, r.return])) : {};
    return answer(req, reply, 200, {
      info: [
        j
          ? {
              ...jobInfo(j),
              jid,
              Minions: j.minions,
              Result: Object.fromEntries(
                Object.entries(j.returns).map(([id, r]) => [id, { return: r.return }]),
              ),
            }
          : {},
      ],
      return: [result],
    });
  };
  app.get("/jobs", jobsRoute);
  app.get("/jobs/:jid", jobsRoute);

  const keys = async (req: FastifyRequest<{ Params: { mid?: string } }>, reply: FastifyReply) => {
    const s = await needSession(req);
    const mid = req.params.mid;
    const r = (await guard(req, () =>
      runChunk(
        { client: "wheel", fun: mid ? "key.finger" : "key.list_all", ...(mid ? { match: mid } : {}) },
        caller(s),
        { ...config, netapi_enable_clients: ["wheel"] },
        ports,
        jobs,
      ),
    )) as { data: { return: unknown } };
    return answer(req, reply, 200, { return: r.data.return });
  };
  app.get("/keys", keys);
  app.get("/keys/:mid", keys);

  // Salt's POST /keys: wheel key.gen_accept, credentials in the body (or a token), a tarball back
  app.post("/keys", async (req, reply) => {
    const body = (lowstate(req.body)[0] ?? {}) as Record<string, unknown>;
    const s =
      session(req) ??
      (typeof body["token"] === "string" ? auth.get(body["token"]) : await auth.login(body)) ??
      (await refuse(
        req,
        401,
        "No authentication credentials given or they were refused",
        typeof body["username"] === "string" ? body["username"] : undefined,
      ));
    if (!config.netapi_enable_clients.includes("wheel"))
      throw new ApiError(
        400,
        "Client disabled: 'wheel'. Add to 'netapi_enable_clients' master config option to enable.",
      );
    const id = body["mid"] ?? body["id_"];
    if (typeof id !== "string" || id === "") throw new ApiError(400, "POST /keys needs mid (the agent id)");
    const force = body["force"] === true || body["force"] === "true" || body["force"] === "True";
    if (!specCheck(auth.authList(s), "key.gen_accept", { id_: id, force }, "wheel"))
      return refuse(req, 403, `${s.name} may not call the wheel function key.gen_accept`, s.name);
    if (!ports.genAcceptKey) throw new Error("key generation is not available in this service");
    const k = await ports.genAcceptKey(id, force).catch((err: unknown) => {
      const msg = errorMessage(err);
      throw new ApiError(/already has a key/.test(msg) ? 409 : 400, msg);
    });
    await ports.audit("reactor/api/keys", { user: s.name, id: k.id, pub: k.pub, act: "gen_accept" });
    void reply.header("Cache-Control", "no-store");
    const accept = (req.headers.accept ?? "").trim();
    if (accept === "" || accept === "*/*" || /application\/x-tar/.test(accept)) {
      const files = [
        { name: "agent.nk", data: `${k.seed}\n`, mode: 0o600 },
        { name: "agent.pub", data: `${k.pub}\n`, mode: 0o644 },
        ...(ports.servicePub ? [{ name: "service.pub", data: `${ports.servicePub}\n`, mode: 0o644 }] : []),
      ];
      return reply
        .code(200)
        .header("Content-Disposition", `attachment; filename="saltkeys-${encodeURIComponent(k.id)}.tar"`)
        .type("application/x-tar")
        .send(tarball(files));
    }
    return answer(req, reply, 200, {
      return: {
        id: k.id,
        pub: k.pub,
        seed: k.seed,
        finger: k.finger,
        state: "accepted",
        ...(ports.servicePub ? { service_pub: ports.servicePub } : {}),
      },
    });
  });

  app.get("/stats", async (req, reply) => {
    if (!rest.stats_disable_auth) await needSession(req);
    if (!rest.collect_stats) return answer(req, reply, 200, { return: {} });
    return answer(req, reply, 200, {
      "CherryPy Applications": {
        Uptime: (Date.now() - stats.started) / 1000,
        Requests: stats.requests,
        Sessions: undefined,
      },
      return: { uptime: (Date.now() - stats.started) / 1000, requests: stats.requests },
    });
  });

  app.get("/events", async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const s =
      auth.get(tokenOf(req) ?? q["token"] ?? q["salt_token"]) ??
      (await refuse(req, 401, "No permission -- see authorization schemes"));
    const list = auth.authList(s);
    const feed = await ports.watch("*");
    feeds.add(feed);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...(rest.cors_origin ? corsHeaders(req, rest.cors_origin) : {}),
    });
    res.write("retry: 400\n\n");
    const done = () => {
      feeds.delete(feed);
      void feed.stop();
    };
    res.once("close", done);
    for await (const e of feed) {
      if (!maysee(e, list, ports.resolve)) continue;
      res.write(`tag: ${e.tag}\ndata: ${JSON.stringify(saltEvent(e))}\n\n`);
    }
    done();
    res.end();
  });

  // a bad token is refused with 401 before the upgrade, as salt-api does
  const wsAuth = async (req: FastifyRequest) => {
    if (!auth.get((req.params as { token?: string }).token))
      await refuse(req, 401, "No permission -- see authorization schemes");
  };
  app.get("/ws/:token", { websocket: true, preValidation: wsAuth }, (socket, req) => {
    const params = req.params as { token?: string };
    const q = req.query as Record<string, string | undefined>;
    const s = auth.get(params.token);
    if (!s) {
      socket.close(1008, "401 Unauthorized");
      return;
    }
    const list = auth.authList(s);
    let feed: EventFeed | undefined;
    socket.on("message", (raw: Buffer) => {
      if (feed || raw.toString() !== "websocket client ready") return;
      void ports.watch("*").then(async (f) => {
        feed = f;
        feeds.add(f);
        for await (const e of f) {
          if (!maysee(e, list, ports.resolve)) continue;
          socket.send(
            `data: ${JSON.stringify(q["format_events"] !== undefined ? saltEvent(e) : saltEvent(e))}\n\n`,
          );
        }
      });
    });
    socket.on("close", () => {
      if (feed) {
        feeds.delete(feed);
        void feed.stop();
      }
    });
  });

  await app.listen({ host: rest.host, port: rest.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : rest.port;
  const host = rest.host.includes(":") ? `[${rest.host}]` : rest.host;
  const url = `${rest.disable_ssl ? "http" : "https"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  log.info({ url }, "REST API started");
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopping ??= (async () => {
        await jobFeed.stop().catch(() => undefined);
        await Promise.allSettled([...feeds].map((f) => f.stop()));
        app.server.closeAllConnections();
        await app.close();
      })();
      return stopping;
    },
  };
}

/** Salt's event envelope: `{tag, data}`. */
function saltEvent(e: ReactorEvent): { tag: string; data: unknown } {
  return { tag: e.tag, data: e.data };
}

/** The token: `X-Auth-Token` trumps the `session_id` cookie (Salt's salt_token_tool). */
function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers["x-auth-token"];
  if (typeof h === "string" && h !== "") return h;
  const cookie = req.headers.cookie ?? "";
  const m = /(?:^|;\s*)session_id=([0-9a-f]{40})(?:;|$)/.exec(cookie);
  return m?.[1];
}

/** Writes the body as JSON or YAML by the Accept header (406 for anything else). */
function answer(req: FastifyRequest, reply: FastifyReply, status: number, body: unknown): FastifyReply {
  const type = bestType(req.headers.accept);
  if (!type)
    return reply
      .code(406)
      .type("application/json")
      .send(
        JSON.stringify({ status: 406, return: "Not Acceptable: use application/json or application/x-yaml" }),
      );
  if (!reply.hasHeader("Cache-Control")) void reply.header("Cache-Control", "private");
  return reply
    .code(status)
    .type(type)
    .send(type === "application/json" ? JSON.stringify(body) : toYaml(body));
}

function bestType(accept: string | undefined): "application/json" | "application/x-yaml" | undefined {
  if (!accept || accept.trim() === "") return "application/json";
  const ranges = accept
    .split(",")
    .map((p) => {
      const [t, ...params] = p.trim().split(";");
      const q = params.map((x) => /^\s*q=([\d.]+)/.exec(x)?.[1]).find(Boolean);
      return { t: (t ?? "").trim().toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const r of ranges) {
    if (r.t === "application/json" || r.t === "*/*" || r.t === "application/*") return "application/json";
    if (r.t === "application/x-yaml" || r.t === "application/yaml" || r.t === "text/yaml")
      return "application/x-yaml";
  }
  return undefined;
}

function corsHeaders(req: FastifyRequest, origins: readonly string[]): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !(origins.includes("*") || origins.includes(origin))) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Expose-Headers": "GET, POST",
    "Access-Control-Allow-Credentials": "true",
  };
}

function cors(req: FastifyRequest, reply: FastifyReply, origins: readonly string[]): void {
  const h = corsHeaders(req, origins);
  for (const [k, v] of Object.entries(h)) void reply.header(k, v);
  if (req.method === "OPTIONS" && Object.keys(h).length > 0) {
    void reply
      .header("Access-Control-Allow-Methods", "GET, POST")
      .header("Access-Control-Allow-Headers", "Content-Type, X-Auth-Token, X-Requested-With")
      .header("Access-Control-Max-Age", "1400");
  }
}

/** Refusals allowed per key per minute; past that, 429 until the minute turns. */
class Refusals {
  private readonly counts = new Map<string, { minute: number; n: number }>();
  constructor(private readonly perMinute: number) {}
  allow(key: string): boolean {
    const minute = Math.floor(Date.now() / 60_000);
    const c = this.counts.get(key);
    if (!c || c.minute !== minute) {
      if (this.counts.size > 10_000) this.counts.clear();
      this.counts.set(key, { minute, n: 1 });
      return true;
    }
    c.n++;
    return c.n <= this.perMinute;
  }
}
