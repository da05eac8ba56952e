/**
 * The REST API's settings, read from reactor.yaml under Salt's own master-config key names
 * (`rest_cherrypy:`, `netapi_enable_clients`, `external_auth:`, `token_expire`,
 * `token_expire_user_override`, `keep_acl_in_token`, `auth.pam.service`, `auth.ldap.*`) -> a frozen
 * `ApiConfig`.
 * Off unless `rest_cherrypy:` is present. ACL regexes are compiled here, once.
 */
import type { ConfigError } from "../core/errors.js";
import { isMap } from "../core/index.js";
import { FieldChecker } from "./reactor-checks.js";
import type { FieldPath, YamlSource } from "./yaml.js";

/** Top-level keys of reactor.yaml that belong to the API. */
export const API_CONFIG_KEYS = [
  "rest_cherrypy",
  "netapi_enable_clients",
  "external_auth",
  "token_expire",
  "token_expire_user_override",
  "keep_acl_in_token",
  "auth.pam.service",
  "auth.ldap.uri",
  "auth.ldap.server",
  "auth.ldap.port",
  "auth.ldap.tls",
  "auth.ldap.starttls",
  "auth.ldap.no_verify",
  "auth.ldap.basedn",
  "auth.ldap.binddn",
  "auth.ldap.bindpw",
  "auth.ldap.filter",
  "auth.ldap.scope",
  "auth.ldap.anonymous",
  "auth.ldap.groupou",
  "auth.ldap.accountattributename",
  "auth.ldap.groupclass",
  "auth.ldap.activedirectory",
  "auth.ldap.freeipa",
  "auth.ldap.auth_by_group_membership_only",
  "auth.ldap.minion_stripdomains",
] as const;

/** Salt's netapi clients that nats-reactor serves. */
export const NETAPI_CLIENTS = [
  "local",
  "local_async",
  "local_batch",
  "runner",
  "runner_async",
  "wheel",
  "wheel_async",
] as const;
export type NetapiClient = (typeof NETAPI_CLIENTS)[number];

/** Back-ends of `external_auth:`. */
export const EAUTH_BACKENDS = ["file", "pam", "ldap"] as const;
export type EauthBackend = (typeof EAUTH_BACKENDS)[number];

/** File types of the `file` back-end (`^filetype`). */
export const EAUTH_FILETYPES = ["text", "htpasswd", "htdigest"] as const;

/** A function regex, Salt-style: matched with Python's `re.match` (anchored at the start only). */
export interface FunMatcher {
  readonly source: string;
  readonly re: RegExp;
}

/** `{fun_regex: {args: [...], kwargs: {...}}}`: a function allowed only with these arguments (null = any). */
export interface FunWithArgs {
  readonly fun: FunMatcher;
  readonly conditions: readonly {
    readonly args: readonly (FunMatcher | null)[];
    readonly kwargs: Readonly<Record<string, FunMatcher | null>>;
  }[];
}

export type FunRule = FunMatcher | FunWithArgs;

/** One ACL entry: a function regex for every target, or a target (or `@runner`, `@wheel`, `@jobs`, `@<module>`) with its rules. */
export type AclEntry =
  | { readonly kind: "fun"; readonly rule: FunMatcher }
  | { readonly kind: "target"; readonly target: string; readonly rules: readonly FunRule[] };

/** The `file` back-end's options (Salt's `^filename`, `^filetype`, ...). */
export interface FileEauthOptions {
  readonly filename: string;
  /** Default `text`. */
  readonly filetype: (typeof EAUTH_FILETYPES)[number];
  /** `text` only: `plaintext` (default) or a hashlib name (md5, sha1, sha256, sha512). */
  readonly hashtype: string;
  /** `text` only. Default `:`. */
  readonly field_separator: string;
  /** `text` only, 1-based. Defaults 1 and 2. */
  readonly username_field: number;
  readonly password_field: number;
  /** `htdigest` only. Required there. */
  readonly realm?: string;
}

/** Salt's `auth.ldap.*` options (salt/auth/ldap.py), as the `ldap` back-end uses them. */
export interface LdapOptions {
  /** `auth.ldap.uri`, or `ldap[s]://<server>:<port>` built from `server`, `port` and `tls`. */
  readonly url: string;
  readonly starttls: boolean;
  /** Do not verify the server's certificate (ldaps or starttls). Default false. */
  readonly no_verify: boolean;
  readonly basedn: string;
  /** A DN, `{{ username }}` replaced by the (DN-escaped) user name. */
  readonly binddn?: string;
  readonly bindpw?: string;
  /** A search filter, `{{ username }}` replaced by the (filter-escaped) user name. */
  readonly filter?: string;
  readonly scope: "base" | "one" | "sub";
  /** Search for the user's DN with an anonymous bind. Default false. */
  readonly anonymous: boolean;
  /** Groups are searched under `ou=<groupou>,<basedn>` (basedn when empty). Default `Groups`. */
  readonly groupou: string;
  /** Default `memberUid`. */
  readonly accountattributename: string;
  /** Default `posixGroup`. */
  readonly groupclass: string;
}

/** One back-end under `external_auth:`. */
export interface EauthConfig {
  readonly backend: EauthBackend;
  readonly file?: FileEauthOptions;
  /** `user` or `group%` (fnmatch or regex, as Salt's expr_match) -> entries, in file order. */
  readonly acl: Readonly<Record<string, readonly AclEntry[]>>;
  /** The raw ACL as written (what /login answers as `perms`). */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** The compiled API settings. */
export interface ApiConfig {
  readonly rest: {
    /** Default `0.0.0.0` (Salt's). */
    readonly host: string;
    /** Required; 0 picks a free port. */
    readonly port: number;
    readonly ssl_crt?: string;
    readonly ssl_key?: string;
    /** Default false: then ssl_crt and ssl_key are required. */
    readonly disable_ssl: boolean;
    /** Tracebacks in 500 answers. Default false. */
    readonly debug: boolean;
    /** Default false. */
    readonly webhook_disable_auth: boolean;
    /** Default `/hook`. */
    readonly webhook_url: string;
    /** Bytes. Default 1048576 (Salt's). */
    readonly max_request_body_size: number;
    /** `cors_origin`: `*` or a list of origins. Default: no CORS headers. */
    readonly cors_origin?: readonly string[];
    /** Default true. */
    readonly collect_stats: boolean;
    readonly stats_disable_auth: boolean;
    /** Requests refused for auth, per (user or address), per minute. Default 30. */
    readonly auth_rate_per_minute: number;
  };
  /** Salt 3006: clients not listed are refused. Default []. */
  readonly netapi_enable_clients: readonly NetapiClient[];
  /** Seconds. Default 43200 (12 h). */
  readonly token_expire: number;
  /** true, or eauth -> users allowed to ask for their own `token_expire`. Default false. */
  readonly token_expire_user_override: boolean | Readonly<Record<string, readonly string[]>>;
  /** Default true (Salt's default). */
  readonly keep_acl_in_token: boolean;
  /** PAM service name. Default `login`. */
  readonly pam_service: string;
  /** The `ldap` back-end's options; present when `external_auth:` has `ldap:`. */
  readonly ldap?: LdapOptions;
  readonly external_auth: Readonly<Record<string, EauthConfig>>;
}

const REST_KEYS = [
  "host",
  "port",
  "ssl_crt",
  "ssl_key",
  "disable_ssl",
  "debug",
  "webhook_disable_auth",
  "webhook_url",
  "max_request_body_size",
  "cors_origin",
  "collect_stats",
  "stats_disable_auth",
  "auth_rate_per_minute",
  "thread_pool",
  "socket_queue_size",
  "expire_responses",
  "log_access_file",
  "log_error_file",
] as const;

/** Compiles the API keys of `raw` (the whole reactor.yaml map). `config` is undefined without `rest_cherrypy:`. */
export function compileApiConfig(
  raw: Record<string, unknown>,
  src: YamlSource,
): { config: ApiConfig | undefined; errors: ConfigError[] } {
  const c = new FieldChecker(src);
  const restRaw = raw["rest_cherrypy"];
  if (restRaw === undefined || restRaw === null) return { config: undefined, errors: [] };
  const r = c.section(restRaw, ["rest_cherrypy"], REST_KEYS);
  const p = (k: string): FieldPath => ["rest_cherrypy", k];
  const port = r["port"];
  if (port === undefined) c.fail(["rest_cherrypy"], "needs `port:`");
  else if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    c.fail(p("port"), "must be a port number 0-65535");
  const disable_ssl = c.bool(r["disable_ssl"], p("disable_ssl"), false);
  const ssl_crt = c.optStr(r["ssl_crt"], p("ssl_crt"));
  const ssl_key = c.optStr(r["ssl_key"], p("ssl_key"));
  if (!disable_ssl && (ssl_crt === undefined || ssl_key === undefined))
    c.fail(["rest_cherrypy"], "needs `ssl_crt:` and `ssl_key:`, or `disable_ssl: true` (as salt-api)");
  const webhook_url = c.str(r["webhook_url"], p("webhook_url"), "/hook");
  if (!/^\/[A-Za-z0-9_-]+$/.test(webhook_url))
    c.fail(p("webhook_url"), "must be one path segment such as /hook");
  const cors = r["cors_origin"];
  const cors_origin =
    cors === undefined || cors === null
      ? undefined
      : typeof cors === "string"
        ? [cors]
        : c.strList(cors, p("cors_origin"));
  const clients = c.strList(raw["netapi_enable_clients"], ["netapi_enable_clients"]);
  clients.forEach((cl, i) => {
    if (!(NETAPI_CLIENTS as readonly string[]).includes(cl))
      c.fail(
        ["netapi_enable_clients", i],
        `is not a client nats-reactor serves (known: ${NETAPI_CLIENTS.join(", ")})`,
      );
  });
  const config: ApiConfig = {
    rest: {
      host: c.str(r["host"], p("host"), "0.0.0.0"),
      port: typeof port === "number" ? port : 0,
      ...(ssl_crt !== undefined ? { ssl_crt } : {}),
      ...(ssl_key !== undefined ? { ssl_key } : {}),
      disable_ssl,
      debug: c.bool(r["debug"], p("debug"), false),
      webhook_disable_auth: c.bool(r["webhook_disable_auth"], p("webhook_disable_auth"), false),
      webhook_url,
      max_request_body_size: c.int(r["max_request_body_size"], p("max_request_body_size"), 1048576),
      ...(cors_origin ? { cors_origin } : {}),
      collect_stats: c.bool(r["collect_stats"], p("collect_stats"), true),
      stats_disable_auth: c.bool(r["stats_disable_auth"], p("stats_disable_auth"), false),
      auth_rate_per_minute: c.int(r["auth_rate_per_minute"], p("auth_rate_per_minute"), 30),
    },
    netapi_enable_clients: clients as NetapiClient[],
    token_expire: c.duration(raw["token_expire"], ["token_expire"], 43200),
    token_expire_user_override: userOverride(raw["token_expire_user_override"], c),
    keep_acl_in_token: c.bool(raw["keep_acl_in_token"], ["keep_acl_in_token"], true),
    pam_service: c.str(raw["auth.pam.service"], ["auth.pam.service"], "login"),
    external_auth: externalAuth(raw["external_auth"], c),
  };
  if (Object.hasOwn(config.external_auth, "ldap")) {
    const ldap = ldapOptions(raw, c);
    if (ldap) Object.assign(config, { ldap });
  }
  if (c.errors.length > 0) return { config: undefined, errors: c.errors };
  return { config: deepFreeze(config), errors: [] };
}

/** `auth.ldap.*` -> LdapOptions; Salt's defaults (salt/auth/ldap.py `__defopts__`). */
function ldapOptions(raw: Record<string, unknown>, c: FieldChecker): LdapOptions | undefined {
  const k = (name: string): FieldPath => [`auth.ldap.${name}`];
  const v = (name: string): unknown => raw[`auth.ldap.${name}`];
  for (const off of ["activedirectory", "freeipa", "auth_by_group_membership_only"] as const) {
    if (c.bool(v(off), k(off), false))
      c.fail(
        k(off),
        off === "auth_by_group_membership_only"
          ? "is not supported: it lets any password log in (only group membership is checked)"
          : "is not supported: the ldap back-end speaks OpenLDAP's posixGroup layout",
      );
  }
  const tls = c.bool(v("tls"), k("tls"), false);
  const starttls = c.bool(v("starttls"), k("starttls"), false);
  if (tls && starttls) c.fail(k("starttls"), "cannot be used with `auth.ldap.tls` (choose one)");
  const server = c.str(v("server"), k("server"), "localhost");
  const portRaw = v("port");
  const port = typeof portRaw === "string" && /^\d+$/.test(portRaw) ? Number(portRaw) : portRaw;
  if (port !== undefined && (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535))
    c.fail(k("port"), "must be a port number 1-65535");
  const uri = c.optStr(v("uri"), k("uri"));
  if (uri !== undefined && !/^ldaps?:\/\//.test(uri)) c.fail(k("uri"), "must start with ldap:// or ldaps://");
  const url =
    uri !== undefined
      ? uri
      : `${tls ? "ldaps" : "ldap"}://${server.includes(":") ? `[${server}]` : server}:${typeof port === "number" ? port : 389}`;
  const binddn = c.optStr(v("binddn"), k("binddn"));
  const bindpw = c.optStr(v("bindpw"), k("bindpw"));
  const filter = c.optStr(v("filter"), k("filter"));
  const anonymous = c.bool(v("anonymous"), k("anonymous"), false);
  const search = anonymous || (binddn !== undefined && bindpw !== undefined);
  if (!search && binddn === undefined)
    c.fail(
      ["external_auth", "ldap"],
      "needs `auth.ldap.binddn:` (the user's DN with {{ username }}, or a search account with `auth.ldap.bindpw:` and `auth.ldap.filter:`)",
    );
  if (search && filter === undefined)
    c.fail(k("filter"), "is needed to search for the user's DN, e.g. uid={{ username }}");
  const scopeRaw = v("scope") ?? 2;
  const scope = scopeRaw === 0 ? "base" : scopeRaw === 1 ? "one" : scopeRaw === 2 ? "sub" : undefined;
  if (scope === undefined) c.fail(k("scope"), "must be 0 (base), 1 (one level) or 2 (subtree)");
  c.strList(v("minion_stripdomains") ?? [], k("minion_stripdomains"));
  return {
    url,
    starttls,
    no_verify: c.bool(v("no_verify"), k("no_verify"), false),
    basedn: c.str(v("basedn"), k("basedn"), ""),
    ...(binddn !== undefined ? { binddn } : {}),
    ...(bindpw !== undefined ? { bindpw } : {}),
    ...(filter !== undefined ? { filter } : {}),
    scope: scope ?? "sub",
    anonymous,
    groupou: v("groupou") === "" ? "" : c.str(v("groupou"), k("groupou"), "Groups"),
    accountattributename: c.str(v("accountattributename"), k("accountattributename"), "memberUid"),
    groupclass: c.str(v("groupclass"), k("groupclass"), "posixGroup"),
  };
}

function userOverride(v: unknown, c: FieldChecker): ApiConfig["token_expire_user_override"] {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  const out: Record<string, readonly string[]> = {};
  for (const [eauth, users] of Object.entries(
    c.section(v, ["token_expire_user_override"], Object.keys(isMap(v) ? v : {})),
  ))
    out[eauth] = c.strList(users, ["token_expire_user_override", eauth]);
  return out;
}

function externalAuth(v: unknown, c: FieldChecker): Record<string, EauthConfig> {
  const out: Record<string, EauthConfig> = {};
  const path: FieldPath = ["external_auth"];
  for (const [name, value] of Object.entries(c.section(v, path, EAUTH_BACKENDS))) {
    const p: FieldPath = [...path, name];
    if (!(EAUTH_BACKENDS as readonly string[]).includes(name)) continue; // reported by section()
    if (!isMap(value)) {
      c.fail(p, "must be a map of users and groups to their permissions");
      continue;
    }
    const options = Object.fromEntries(Object.entries(value).filter(([k]) => k.startsWith("^")));
    const acl: Record<string, AclEntry[]> = {};
    const raw: Record<string, unknown> = {};
    for (const [who, entries] of Object.entries(value)) {
      if (who.startsWith("^")) continue;
      raw[who] = entries;
      acl[who] = aclEntries(entries, c, [...p, who]);
    }
    const backend = name as EauthBackend;
    const file = backend === "file" ? fileOptions(options, c, p) : undefined;
    if (backend !== "file" && Object.keys(options).length > 0)
      c.fail([...p, Object.keys(options)[0]!], "is not an option of this back-end");
    out[name] = { backend, ...(file ? { file } : {}), acl, raw };
  }
  return out;
}

function fileOptions(
  o: Record<string, unknown>,
  c: FieldChecker,
  p: FieldPath,
): FileEauthOptions | undefined {
  const known = [
    "^filename",
    "^filetype",
    "^hashtype",
    "^field_separator",
    "^username_field",
    "^password_field",
    "^realm",
  ];
  c.unknownKeys(o, p, known);
  const filename = c.optStr(o["^filename"], [...p, "^filename"]);
  if (filename === undefined) c.fail(p, "needs `^filename:` (the password file)");
  const filetype = c.oneOf(o["^filetype"], [...p, "^filetype"], EAUTH_FILETYPES, "text");
  const hashtype = c.str(o["^hashtype"], [...p, "^hashtype"], "plaintext");
  if (!["plaintext", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"].includes(hashtype))
    c.fail([...p, "^hashtype"], "must be plaintext, md5, sha1, sha224, sha256, sha384 or sha512");
  const realm = c.optStr(o["^realm"], [...p, "^realm"]);
  if (filetype === "htdigest" && realm === undefined) c.fail(p, "needs `^realm:` with `^filetype: htdigest`");
  if (filename === undefined) return undefined;
  return {
    filename,
    filetype,
    hashtype,
    field_separator: c.str(o["^field_separator"], [...p, "^field_separator"], ":"),
    username_field: c.int(o["^username_field"], [...p, "^username_field"], 1),
    password_field: c.int(o["^password_field"], [...p, "^password_field"], 2),
    ...(realm !== undefined ? { realm } : {}),
  };
}

function aclEntries(v: unknown, c: FieldChecker, p: FieldPath): AclEntry[] {
  if (!Array.isArray(v)) {
    c.fail(
      p,
      "must be a list of function regexes or target maps, e.g. ['.*', '@runner', {'web*': ['test.*']}]",
    );
    return [];
  }
  const out: AclEntry[] = [];
  v.forEach((e: unknown, i) => {
    const ep = [...p, i];
    if (typeof e === "string") {
      const rule = matcher(e, c, ep);
      if (rule) out.push({ kind: "fun", rule });
    } else if (isMap(e) && Object.keys(e).length === 1) {
      const [target, rules] = Object.entries(e)[0]!;
      const list = Array.isArray(rules) ? rules : [rules];
      out.push({
        kind: "target",
        target,
        rules: list
          .map((r: unknown, j) => funRule(r, c, [...ep, target, j]))
          .filter((r): r is FunRule => r !== undefined),
      });
    } else c.fail(ep, "must be a function regex or a map of one target to its functions");
  });
  return out;
}

function funRule(v: unknown, c: FieldChecker, p: FieldPath): FunRule | undefined {
  if (typeof v === "string") return matcher(v, c, p);
  if (!isMap(v) || Object.keys(v).length !== 1) {
    c.fail(p, "must be a function regex or {function: {args: [...], kwargs: {...}}}");
    return undefined;
  }
  const [fun, cond] = Object.entries(v)[0]!;
  const fm = matcher(fun, c, [...p, fun]);
  const conditions = (Array.isArray(cond) ? cond : [cond]).map((x: unknown, k) => {
    const cp = [...p, fun, k];
    const m = c.section(x, cp, ["args", "kwargs"]);
    const args = Array.isArray(m["args"])
      ? m["args"].map((a: unknown, ai) =>
          a === null ? null : (matcher(String(a), c, [...cp, "args", ai]) ?? null),
        )
      : [];
    if (m["args"] !== undefined && !Array.isArray(m["args"]))
      c.fail([...cp, "args"], "must be a list of regexes (null = any)");
    const kwargs: Record<string, FunMatcher | null> = {};
    for (const [k2, a] of Object.entries(
      c.section(m["kwargs"], [...cp, "kwargs"], Object.keys(isMap(m["kwargs"]) ? m["kwargs"] : {})),
    ))
      kwargs[k2] = a === null ? null : (matcher(String(a), c, [...cp, "kwargs", k2]) ?? null);
    return { args, kwargs };
  });
  return fm ? { fun: fm, conditions } : undefined;
}

/** Python `re.match`: anchored at the start, not at the end. */
function matcher(source: string, c: FieldChecker, p: FieldPath): FunMatcher | undefined {
  try {
    return { source, re: new RegExp(`^(?:${source})`, "u") };
  } catch (err) {
    c.fail(p, `is not a valid regular expression: ${(err as Error).message}`);
    return undefined;
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v) && !(v instanceof RegExp)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
