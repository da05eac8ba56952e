/**
 * The `http:` section of reactor.yaml (webhooks and the event stream, DESIGN.md 2.1 `salt/netapi/hook`)
 * -> a frozen, fully-defaulted `HttpConfig`. Off unless the section is present. Secrets may be
 * given as `${ENV_VAR}`; they are resolved here and never appear in error messages.
 */
import type { ConfigError } from "../core/errors.js";
import { compileTagGlob } from "../core/glob/index.js";
import { FieldChecker } from "./reactor-checks.js";
import { isMap } from "../core/index.js";
import type { FieldPath, YamlSource } from "./yaml.js";

/** HMAC algorithms a hook may use. */
export const HMAC_ALGORITHMS = ["sha256", "sha1", "sha512"] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

/** Shortest secret accepted (tokens and HMAC secrets), in characters. */
export const MIN_SECRET_LENGTH = 16;

/** One webhook: requests to `POST /hook/<path>` whose path matches `path` (an fnmatch glob). */
export interface HookConfig {
  /** Path glob, e.g. `deploy` or `github/*` (Salt's fnmatch: `*` also crosses `/`). */
  readonly path: string;
  /** Bearer token the caller must send (`Authorization: Bearer ...`). Default: none. */
  readonly token?: string;
  /** GitHub-style signature over the raw body. Default: none. At least one of token and hmac is required. */
  readonly hmac?: {
    readonly secret: string;
    /** Default `X-Hub-Signature-256` (stored lower-cased). */
    readonly header: string;
    /** Default `sha256`. */
    readonly algorithm: HmacAlgorithm;
  };
}

/** A token that may read the event stream (`GET /events`). */
export interface StreamTokenConfig {
  /** The name under `tokens:` (for logs; never the secret). */
  readonly name: string;
  readonly token: string;
  /** Tag globs (fnmatch) the holder may see. Required, non-empty. */
  readonly tags: readonly string[];
}

/** The compiled `http:` section. */
export interface HttpConfig {
  /** `host:port` to listen on, e.g. `127.0.0.1:8080`. Required. */
  readonly listen: string;
  /** Webhooks, in file order (the first whose glob matches a path wins). Default []. */
  readonly hooks: readonly HookConfig[];
  /** Largest request body accepted, bytes. Default 1MiB. */
  readonly max_body: number;
  /** Requests per (hook, client address). Default `{per_minute: 60, burst: 10}`. */
  readonly rate_limit: { readonly per_minute: number; readonly burst: number };
  /** Tokens for the event stream. Default [] (the stream answers 401 to everyone). */
  readonly tokens: readonly StreamTokenConfig[];
  /** Seconds between SSE heartbeat comments. Default 15. */
  readonly heartbeat: number;
}

const HTTP_KEYS = ["listen", "hooks", "max_body", "rate_limit", "tokens", "heartbeat"] as const;
const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Splits `host:port` (`[::1]:8080` for IPv6); undefined when it is not one. Port 0 picks a free port. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/**
 * Compiles the `http:` section found at `base` in `src`. Returns `config: undefined` when the section
 * is absent (webhooks off) or when it has errors; every problem is in `errors`.
 */
export function compileHttpConfig(
  raw: unknown,
  src: YamlSource,
  base: FieldPath = ["http"],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { config: HttpConfig | undefined; errors: ConfigError[] } {
  const c = new FieldChecker(src);
  if (raw === undefined || raw === null) return { config: undefined, errors: [] };
  const h = c.section(raw, base, HTTP_KEYS);
  if (!isMap(raw)) return { config: undefined, errors: c.errors };
  const listen = c.optStr(h["listen"], [...base, "listen"]);
  if (listen === undefined && !("listen" in raw)) c.fail(base, "needs `listen:` (host:port)");
  if (listen !== undefined && !parseListen(listen))
    c.fail([...base, "listen"], `must be host:port, got ${JSON.stringify(listen)}`);
  const rl = c.section(h["rate_limit"], [...base, "rate_limit"], ["per_minute", "burst"]);
  const config: HttpConfig = {
    listen: listen ?? "",
    hooks: hooks(h["hooks"], c, [...base, "hooks"], env),
    max_body: c.size(h["max_body"], [...base, "max_body"], 1024 * 1024),
    rate_limit: {
      per_minute: c.int(rl["per_minute"], [...base, "rate_limit", "per_minute"], 60),
      burst: c.int(rl["burst"], [...base, "rate_limit", "burst"], 10),
    },
    tokens: tokens(h["tokens"], c, [...base, "tokens"], env),
    heartbeat: c.duration(h["heartbeat"], [...base, "heartbeat"], 15),
  };
  if (c.errors.length > 0) return { config: undefined, errors: c.errors };
  return { config: deepFreeze(config), errors: [] };
}

function hooks(
  raw: unknown,
  c: FieldChecker,
  path: FieldPath,
  env: Readonly<Record<string, string | undefined>>,
): HookConfig[] {
  const out: HookConfig[] = [];
  for (const [glob, value] of Object.entries(c.section(raw, path, Object.keys(isMap(raw) ? raw : {})))) {
    const p = [...path, glob];
    if (
      !/^[A-Za-z0-9._*?[\]!/-]+$/.test(glob) ||
      glob.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      c.fail(
        p,
        "is not a valid hook path: segments of letters, digits, `.`, `_`, `-` and glob characters, none empty, `.` or `..`",
      );
      continue;
    }
    try {
      compileTagGlob(glob);
    } catch (err) {
      c.fail(p, (err as Error).message);
      continue;
    }
    const h = c.section(value, p, ["token", "hmac"]);
    const token = secret(h["token"], c, [...p, "token"], env);
    const hmac =
      h["hmac"] === undefined || h["hmac"] === null
        ? undefined
        : hmacSection(h["hmac"], c, [...p, "hmac"], env);
    if (h["token"] === undefined && h["hmac"] === undefined)
      c.fail(p, "needs `token:` or `hmac:` (hooks without authentication are not served)");
    out.push({ path: glob, ...(token !== undefined ? { token } : {}), ...(hmac ? { hmac } : {}) });
  }
  return out;
}

function hmacSection(
  raw: unknown,
  c: FieldChecker,
  p: FieldPath,
  env: Readonly<Record<string, string | undefined>>,
): HookConfig["hmac"] {
  const m = c.section(raw, p, ["secret", "header", "algorithm"]);
  const s = secret(m["secret"], c, [...p, "secret"], env);
  if (m["secret"] === undefined && isMap(raw)) c.fail(p, "needs `secret:`");
  const header = c.str(m["header"], [...p, "header"], "X-Hub-Signature-256");
  if (!/^[A-Za-z0-9-]+$/.test(header))
    c.fail([...p, "header"], `must be an HTTP header name, got ${JSON.stringify(header)}`);
  const algorithm = c.oneOf(m["algorithm"], [...p, "algorithm"], HMAC_ALGORITHMS, "sha256");
  return s === undefined ? undefined : { secret: s, header: header.toLowerCase(), algorithm };
}

function tokens(
  raw: unknown,
  c: FieldChecker,
  path: FieldPath,
  env: Readonly<Record<string, string | undefined>>,
): StreamTokenConfig[] {
  const out: StreamTokenConfig[] = [];
  for (const [name, value] of Object.entries(c.section(raw, path, Object.keys(isMap(raw) ? raw : {})))) {
    const p = [...path, name];
    const t = c.section(value, p, ["token", "tags"]);
    const token = secret(t["token"], c, [...p, "token"], env);
    if (t["token"] === undefined) c.fail(p, "needs `token:`");
    const tags = c.strList(t["tags"], [...p, "tags"]);
    if (t["tags"] === undefined || (Array.isArray(t["tags"]) && t["tags"].length === 0)) {
      c.fail([...p, "tags"], "must list the tag globs this token may watch (e.g. ['salt/beacon/*'])");
    }
    tags.forEach((g, i) => {
      try {
        compileTagGlob(g);
      } catch (err) {
        c.fail([...p, "tags", i], (err as Error).message);
      }
    });
    if (token !== undefined) out.push({ name, token, tags });
  }
  return out;
}

/** A secret: literal text or `${ENV_VAR}`; at least MIN_SECRET_LENGTH characters. */
function secret(
  v: unknown,
  c: FieldChecker,
  p: FieldPath,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const s = c.optStr(v, p);
  if (s === undefined) return undefined;
  const ref = ENV_REF.exec(s);
  const value = ref ? env[ref[1]!] : s;
  if (ref && (value === undefined || value === "")) {
    c.fail(p, `names the environment variable ${ref[1]}, which is not set`);
    return undefined;
  }
  if (value!.length < MIN_SECRET_LENGTH) {
    c.fail(
      p,
      `must be at least ${MIN_SECRET_LENGTH} characters long${ref ? ` (the value of ${ref[1]})` : ""}`,
    );
    return undefined;
  }
  return value;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
