/**
 * Composition of the REST API (src/api) inside `reactor serve`: local calls go through the same
 * `runRemote`/`startRemote` as `reactor run` (signed with the service key, `user` in the job and in
 * `salt/job/<jid>/new`), runner and wheel calls through the service's own tables with Salt's
 * `salt/run|wheel/<jid>/new|ret` events, and today's webhooks are served on the API's port too.
 */
import { watchEvents, type Connection, type EventPublisher } from "../bus/index.js";
import type { ApiConfig, HttpConfig } from "../config/index.js";
import { compileTagGlob } from "../core/glob/index.js";
import {
  createEvent,
  errorMessage,
  newJid,
  subjectFilterForGlob,
  type EventSink,
  type Logger,
} from "../core/index.js";
import {
  startApiServer,
  type ApiPorts,
  type ApiServer,
  type EventFeed,
  type RawRoute,
} from "../api/index.js";
import { createHookHandler } from "../netapi/index.js";
import type { ServiceFunction } from "../reactor/index.js";
import type { Client } from "./client.js";
import { openMinionDirectory } from "./minion-directory.js";
import { parseCliArgs, runRemote, startRemote } from "./remote.js";

/** What the service gives the API. */
export interface ServiceApiDeps {
  readonly conn: Connection;
  readonly publisher: EventPublisher;
  readonly signJob: (subject: string, payload: Uint8Array) => string;
  readonly streamName: string;
  readonly maxEventBytes: number;
  readonly runners: Readonly<Record<string, ServiceFunction>>;
  readonly wheel: Readonly<Record<string, ServiceFunction>>;
  /** `POST /keys`: a new accepted key pair. */
  readonly genAcceptKey: ApiPorts["genAcceptKey"];
  /** The service's public key (agents pin it as `service.pub`). */
  readonly servicePub: string;
  readonly replicas: number;
  /** Webhooks to serve under `rest_cherrypy.webhook_url` as well. */
  readonly http?: HttpConfig;
  readonly sink: EventSink;
  readonly log: Logger;
}

/** Starts the API; stop() also closes its directory of agents. */
export async function startServiceApi(config: ApiConfig, d: ServiceApiDeps): Promise<ApiServer> {
  const log = d.log.child({ component: "api" });
  const directory = await openMinionDirectory(d.conn, { replicas: d.replicas, log, onlyAccepted: true });
  const client: Client = {
    conn: d.conn,
    publisher: d.publisher,
    signJob: d.signJob,
    streamName: d.streamName,
    maxEventBytes: d.maxEventBytes,
    close: async () => undefined,
  };
  const remote = (c: Parameters<ApiPorts["runLocal"]>[0]) => {
    // Salt's minions read `key=value` strings of `arg` as keyword arguments, as the CLI does
    const strings = c.arg.filter((a): a is string => typeof a === "string");
    const parsed = strings.length === c.arg.length ? parseCliArgs(strings) : { arg: [...c.arg], kwarg: {} };
    return {
      tgt: typeof c.tgt === "string" ? c.tgt : c.tgt.join(","),
      tgtType: c.tgtType,
      fun: c.fun,
      arg: parsed.arg,
      kwarg: { ...parsed.kwarg, ...c.kwarg },
      timeout: c.timeout,
      user: c.user,
    };
  };
  const ports: ApiPorts = {
    resolve: (tgt, tgtType) => directory.resolve(tgt, tgtType),
    runLocal: async (c) => runRemote(client, remote(c), { directory }),
    startLocal: async (c) => startRemote(client, remote(c), { directory }),
    callService: (kind, fun, kwarg, user, wait) => callService(d, kind, fun, kwarg, user, wait, log),
    audit: async (tag, data) =>
      void (await d.publisher.publish(createEvent({ tag, data, source: "reactor" }))),
    watch: (glob) => watchTags(d, glob, log),
    genAcceptKey: d.genAcceptKey,
    servicePub: d.servicePub,
  };
  const raw: Record<string, RawRoute> = {};
  if (d.http && d.http.hooks.length > 0)
    raw[config.rest.webhook_url] = createHookHandler(d.http, { sink: d.sink, log });
  try {
    const server = await startApiServer(config, ports, { log, raw });
    return {
      ...server,
      stop: async () => {
        await server.stop();
        directory.stop();
      },
    };
  } catch (err) {
    directory.stop();
    throw err;
  }
}

async function watchTags(d: ServiceApiDeps, glob: string, log: Logger): Promise<EventFeed> {
  const stream = await watchEvents(d.conn, d.streamName, {
    filter: subjectFilterForGlob(compileTagGlob(glob)),
    start: { kind: "new" },
    maxEventBytes: d.maxEventBytes,
    onInvalid: (bad) =>
      log.warn({ subject: bad.subject, reason: bad.reason }, "API event feed skipped an invalid message"),
  });
  return {
    stop: () => stream.stop(),
    async *[Symbol.asyncIterator]() {
      for await (const delivery of stream) yield delivery.event;
    },
  };
}

/** A runner or wheel call with Salt's events, `user` included (as dispatch does for reactions). */
async function callService(
  d: ServiceApiDeps,
  kind: "runner" | "wheel",
  fun: string,
  kwarg: Readonly<Record<string, unknown>>,
  user: string,
  wait: boolean,
  log: Logger,
): Promise<{ jid: string; return: unknown; success: boolean }> {
  const table = kind === "runner" ? d.runners : d.wheel;
  const fn = Object.hasOwn(table, fun) ? table[fun] : undefined;
  const jid = newJid();
  if (!fn)
    return {
      jid,
      return: `'${fun}' is not available as a ${kind} function (available: ${Object.keys(table).sort().join(", ")})`,
      success: false,
    };
  const tagKind = kind === "runner" ? "run" : "wheel";
  const base = { fun: `${kind}.${fun}`, fun_args: [kwarg], jid, user };
  const cause = createEvent({ tag: `salt/${tagKind}/${jid}/new`, data: base, source: "reactor" });
  const own = fn.ownRunEvents === true;
  if (!own) await d.publisher.publish(cause);
  const run = (async () => {
    let result: unknown;
    let error: string | undefined;
    try {
      result = await fn(kwarg, { jid, event: cause, arg: [] });
    } catch (err) {
      error = errorMessage(err);
    }
    if (!own || error !== undefined)
      await d.publisher.publish(
        createEvent({
          tag: `salt/${tagKind}/${jid}/ret`,
          data: { ...base, return: error ?? result ?? null, success: error === undefined },
          source: "reactor",
        }),
      );
    return { jid, return: error ?? result ?? null, success: error === undefined };
  })();
  if (wait) return run;
  run.catch((err: unknown) => log.error({ err: errorMessage(err), jid }, `${kind} call failed`));
  return { jid, return: null, success: true };
}
