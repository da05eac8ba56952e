/**
 * `http.*`: HTTP requests from the agent, with the names, arguments and return shapes of Salt's
 * `http` module (salt/modules/http.py over salt.utils.http.query), made with Node's fetch.
 *
 * - `query(url, method="GET", data=None, params=None, header_dict=None, status=False,
 *   headers=False, text=False, match=None, match_type="string", timeout=30)`: one request.
 *   Returns `{body}`, plus `status` (the code) with `status`, `headers` (a map, lowercase names)
 *   with `headers`, and `text` (the body again, as Salt) with `text`. As in Salt, a failed request
 *   is a return value, not a thrown error: an answer >= 400 gives
 *   `{error: "HTTP 404: Not Found", status: 404, body}`; no answer (connection refused, unknown
 *   host, TLS failure, `timeout` seconds passed) gives `{error: "<reason>"}`, with `status: 0`
 *   when `status` was asked for.
 * - `wait_for_successful_query(url, wait_for=300, request_interval=1, status=None, match=None,
 *   ...the other arguments of query)`: repeats `query` every `request_interval` seconds until a
 *   return has no `error`, and returns that return.
 *
 * `status`, `match` and `match_type` (`string` or `pcre`) also mean what they mean in Salt's
 * `http.query` state (salt/states/http.py): `status: <code>` expects that code (and includes it);
 * `status: true` only includes it, as in Salt's module. An answer with the expected code is a
 * success even when it is >= 400. `match` is text the body must contain, or with `match_type:
 * pcre` a JavaScript regular expression searched in the body (not anchored, as re.search); a body
 * without it gives `{error: 'Match text "x" was not found', ...}` (`Match pattern` with pcre).
 *
 * Differences from Salt, on purpose:
 * - wait_for_successful_query THROWS (the job fails) when no request succeeded within `wait_for`
 *   seconds, naming the last status, error and the start of the body; Salt returns the last failed
 *   return, which an orchestration's salt.function step would count as a success. A last request
 *   is made at the deadline; a request that began before it may end up to `timeout` later.
 * - `data` as a map is sent as JSON (`content-type: application/json` unless `header_dict` sets
 *   one); Salt form-encodes it. A string is sent as it is. GET and HEAD take no `data`.
 * - Only http: and https: URLs, without credentials in them (use an `Authorization` header).
 * - `timeout` (seconds, default 30) bounds each request; the job timeout aborts everything.
 * - Bodies over 1 MiB are not kept: the request gives `{error: "response body is larger than
 *   1048576 bytes"}` (plus `status` when asked for). Salt's limit is 100 MiB (`http_max_body`).
 * - Salt's other options (cookies, auth, decode, files, templates, proxies...) do not exist.
 */
import { STATUS_CODES } from "node:http";
import { ExecutionError, ModuleArgumentError, errorMessage, truncate } from "../../core/errors.js";
import { define, type Bound, type Signature } from "./args.js";
import { agentVersion, sleep } from "./test.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

/** The largest response body kept, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The default per-request timeout, in seconds. */
export const DEFAULT_TIMEOUT = 30;

/** What `http.query` returns (Salt's keys). */
export interface QueryResult {
  body?: string;
  status?: number;
  headers?: Record<string, string>;
  text?: string;
  error?: string;
}

const OPTIONS = [
  "method",
  "data",
  "params",
  "header_dict",
  "status",
  "headers",
  "text",
  "match",
  "match_type",
  "timeout",
];
const DEFAULTS = {
  method: "GET",
  data: null,
  params: null,
  header_dict: null,
  status: false,
  headers: false,
  text: false,
  match: null,
  match_type: "string",
  timeout: DEFAULT_TIMEOUT,
};
const QUERY_SIG: Signature = { params: ["url", ...OPTIONS], defaults: DEFAULTS };
const WAIT_SIG: Signature = {
  params: ["url", "wait_for", "request_interval", ...OPTIONS],
  defaults: { ...DEFAULTS, wait_for: 300, request_interval: 1, status: null },
};
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];

/** One request, its arguments checked. */
interface Plan {
  readonly url: URL;
  readonly init: { method: string; headers: Headers; body?: string };
  readonly timeoutMs: number;
  readonly include: { status: boolean; headers: boolean; text: boolean };
  readonly expectStatus: number | undefined;
  readonly match: { readonly test: (body: string) => boolean; readonly missing: string } | undefined;
}

/** The `http` module. */
export const httpModule: ModuleFunctions = {
  query: define("http.query", QUERY_SIG, (a, ctx) => perform(a.fun, plan(a), ctx)),
  wait_for_successful_query: define("http.wait_for_successful_query", WAIT_SIG, async (a, ctx) => {
    const req = plan(a);
    const waitFor = nonNegative(a, "wait_for");
    const interval = nonNegative(a, "request_interval");
    const deadline = Date.now() + waitFor * 1000;
    for (let attempts = 1; ; attempts++) {
      const r = await perform(a.fun, req, ctx);
      if (r.error === undefined) return r;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ExecutionError(
          `${a.fun}: ${shown(req.url)} gave no successful answer within ${waitFor} s ` +
            `(${attempts} request${attempts === 1 ? "" : "s"}); last: ${describe(r)}`,
        );
      }
      await sleep(Math.min(interval * 1000, left), ctx.signal).catch(() => {
        throw aborted(a.fun, ctx);
      });
    }
  }),
};

/** Checks every argument once, before any request is made. */
function plan(a: Bound): Plan {
  const status = statusArg(a);
  const timeout = a.num("timeout");
  if (timeout <= 0)
    throw new ModuleArgumentError(a.fun, `argument 'timeout' must be more than 0, got ${timeout}`);
  const method = methodArg(a);
  const headers = headersArg(a);
  const body = dataArg(a, method, headers);
  return {
    url: urlArg(a),
    init: { method, headers, ...(body !== undefined ? { body } : {}) },
    timeoutMs: timeout * 1000,
    include: { status: status !== false, headers: a.bool("headers"), text: a.bool("text") },
    expectStatus: typeof status === "number" ? status : undefined,
    match: matchArg(a),
  };
}

/** Makes one request; a request that fails is a return with `error`, an abort is thrown. */
async function perform(fun: string, req: Plan, ctx: ModuleContext): Promise<QueryResult> {
  if (ctx.signal.aborted) throw aborted(fun, ctx);
  const timer = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timer]);
  ctx.logger.debug({ fun, method: req.init.method, url: shown(req.url) }, "http request");
  const failed = (err: unknown, status?: number): QueryResult => {
    if (ctx.signal.aborted) throw aborted(fun, ctx);
    const error = timer.aborted ? `timed out after ${req.timeoutMs / 1000} s` : reason(err);
    return { error, ...(req.include.status ? { status: status ?? 0 } : {}) };
  };
  let res: Response;
  let body: string;
  try {
    res = await fetch(req.url, { ...req.init, signal, redirect: "follow" });
  } catch (err) {
    return failed(err);
  }
  try {
    body = await readBody(res);
  } catch (err) {
    return failed(err, res.status);
  }
  if (res.status >= 400 && res.status !== req.expectStatus) {
    return {
      error: `HTTP ${res.status}: ${res.statusText || STATUS_CODES[res.status] || "Unknown"}`,
      status: res.status,
      body,
    };
  }
  const r: QueryResult = { body };
  if (req.include.status) r.status = res.status;
  if (req.include.headers) r.headers = Object.fromEntries(res.headers);
  if (req.include.text) r.text = body;
  const problems: string[] = [];
  if (req.expectStatus !== undefined && res.status !== req.expectStatus)
    problems.push(`Status ${req.expectStatus} was not found (got ${res.status})`);
  if (req.match && !req.match.test(body)) problems.push(req.match.missing);
  if (problems.length) r.error = problems.join("; ");
  return r;
}

/** Reads the body up to MAX_BODY_BYTES, decoded with the charset of content-type (UTF-8 else). */
async function readBody(res: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`response body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const charset = /charset="?([^";\s]+)/i.exec(res.headers.get("content-type") ?? "")?.[1];
  return decode(Buffer.concat(chunks), charset ?? "utf-8");
}

/** Decodes with `charset`, or UTF-8 when Node does not know it; bad bytes become U+FFFD. */
function decode(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function urlArg(a: Bound): URL {
  const text = a.str("url");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ModuleArgumentError(
      a.fun,
      `argument 'url' must be an http:// or https:// URL, got ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ModuleArgumentError(
      a.fun,
      `argument 'url' must be an http:// or https:// URL, got ${JSON.stringify(text)}`,
    );
  if (url.username || url.password)
    throw new ModuleArgumentError(
      a.fun,
      "argument 'url' must not contain credentials; send an Authorization header in header_dict",
    );
  const params = a.raw("params");
  if (params === null || params === undefined) return url;
  if (typeof params === "string") {
    for (const [k, v] of new URLSearchParams(params)) url.searchParams.append(k, v);
    return url;
  }
  for (const [k, v] of Object.entries(mapArg(a, "params", params))) {
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, scalar(a, "params", k, one));
  }
  return url;
}

function methodArg(a: Bound): string {
  const method = a.str("method").toUpperCase();
  if (!/^[A-Z][A-Z_-]*$/.test(method) || FORBIDDEN_METHODS.includes(method))
    throw new ModuleArgumentError(
      a.fun,
      `argument 'method' must be an HTTP method such as GET or POST, got ${JSON.stringify(method)}`,
    );
  return method;
}

function headersArg(a: Bound): Headers {
  const raw = a.raw("header_dict");
  const headers = new Headers();
  for (const [k, v] of Object.entries(
    raw === null || raw === undefined ? {} : mapArg(a, "header_dict", raw),
  )) {
    try {
      headers.set(k, scalar(a, "header_dict", k, v));
    } catch (err) {
      if (err instanceof ModuleArgumentError) throw err;
      throw new ModuleArgumentError(
        a.fun,
        `argument 'header_dict' has an invalid header ${JSON.stringify(k)}: ${errorMessage(err)}`,
      );
    }
  }
  if (!headers.has("user-agent")) headers.set("user-agent", `nats-reactor/${agentVersion()} http.query()`);
  return headers;
}

/** The request body: a string as it is, anything else as JSON (with its content-type). */
function dataArg(a: Bound, method: string, headers: Headers): string | undefined {
  const data = a.raw("data");
  if (data === null || data === undefined) return undefined;
  if (method === "GET" || method === "HEAD")
    throw new ModuleArgumentError(
      a.fun,
      `argument 'data' cannot be sent with ${method}; use method=POST (or PUT, PATCH...)`,
    );
  if (typeof data === "string") return data;
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return JSON.stringify(data);
}

/** `status`: false/None (do not include), true (include) or an expected code (include, expect). */
function statusArg(a: Bound): boolean | number {
  const v = a.raw("status");
  if (v === null || v === undefined) return false;
  if (typeof v === "boolean" || v === "true" || v === "True" || v === "false" || v === "False")
    return a.bool("status");
  const code = a.num("status");
  if (!Number.isInteger(code) || code < 100 || code > 599)
    throw new ModuleArgumentError(
      a.fun,
      `argument 'status' must be true, false or an HTTP status code, got ${JSON.stringify(v)}`,
    );
  return code;
}

function matchArg(a: Bound): Plan["match"] {
  const match = a.optStr("match");
  const type = a.str("match_type");
  if (type !== "string" && type !== "pcre")
    throw new ModuleArgumentError(
      a.fun,
      `argument 'match_type' must be string or pcre, got ${JSON.stringify(type)}`,
    );
  if (match === undefined) return undefined;
  if (type === "string")
    return {
      test: (body) => body.includes(match),
      missing: `Match text ${JSON.stringify(match)} was not found`,
    };
  let re: RegExp;
  try {
    re = new RegExp(match);
  } catch (err) {
    throw new ModuleArgumentError(
      a.fun,
      `argument 'match' is not a valid regular expression: ${errorMessage(err)}`,
    );
  }
  return { test: (body) => re.test(body), missing: `Match pattern ${JSON.stringify(match)} was not found` };
}

function nonNegative(a: Bound, name: string): number {
  const n = a.num(name);
  if (n < 0) throw new ModuleArgumentError(a.fun, `argument '${name}' must be 0 or more, got ${n}`);
  return n;
}

function mapArg(a: Bound, name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ModuleArgumentError(a.fun, `argument '${name}' must be a map, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function scalar(a: Bound, name: string, key: string, v: unknown): string {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  throw new ModuleArgumentError(a.fun, `argument '${name}' must map names to strings (${key} does not)`);
}

/** The reason a request got no answer: fetch's cause (`connect ECONNREFUSED ...`) when it has one. */
function reason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.message) return cause.message;
  return errorMessage(err);
}

function aborted(fun: string, ctx: ModuleContext): ExecutionError {
  return new ExecutionError(`${fun}: aborted (${errorMessage(ctx.signal.reason)})`, {
    cause: ctx.signal.reason,
  });
}

/** The URL without its query string, which may hold secrets. */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function describe(r: QueryResult): string {
  const parts = [`error ${JSON.stringify(r.error)}`];
  if (r.status !== undefined) parts.unshift(`status ${r.status}`);
  if (r.body !== undefined) parts.push(`body ${JSON.stringify(truncate(r.body, 200))}`);
  return parts.join(", ");
}
