/**
 * `reactor.yaml` (DESIGN.md 3.1) -> a frozen, fully-defaulted, typed `ServiceConfig`. Every problem
 * is collected and reported together (ConfigErrors), each naming file:line and the field path.
 * The reactor map may be inline (`reactor: [...]`) or in a file of its own (`reactor: map.yaml`).
 */
import { readFileSync } from "node:fs";
import { compileHttpConfig, parseListen, type HttpConfig } from "./http-config.js";
import { API_CONFIG_KEYS, compileApiConfig, type ApiConfig } from "./api-config.js";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, ConfigErrors, errorMessage } from "../core/errors.js";
import { FieldChecker, type MissingSls } from "./reactor-checks.js";
import { isMap } from "../core/index.js";
import { compileReactorMap, type ReactorMapEntry } from "./reactor-map.js";
import { parseYaml, type YamlSource } from "./yaml.js";
import { compileRoots, DEFAULT_FILE_ROOT, type Roots } from "./file-roots.js";

/** The compiled service configuration. Durations are in seconds, sizes in bytes. */
export interface ServiceConfig {
  /** The file it came from, as given. */
  readonly file: string;
  readonly nats: {
    /** Default [`nats://127.0.0.1:4222`]. A single string is a list of one. */
    readonly servers: readonly string[];
    /** Credentials file (resolved against the file's folder). Default: none. */
    readonly creds?: string;
    /** TLS files (resolved against the file's folder). Default: none. */
    readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
    /** Connection name. Default: none (the app names it). */
    readonly name?: string;
    /**
     * The generated NATS auth (docs/security.md): the service writes `users_file` (an `authorization`
     * block the server's config includes) from the accepted keys and reloads the server. With it, the
     * service connects with its own key as nkey user. Default: none.
     */
    readonly auth?: {
      /** Written by the service. Required. */
      readonly users_file: string;
      /** The bootstrap user's password (created when missing). Default `bootstrap.pass` beside the service key. */
      readonly bootstrap_password_file?: string;
      /** nats-server's pid file: SIGHUP after each change. Default: none (reload it yourself). */
      readonly server_pid_file?: string;
      /** Tag prefixes agents may send custom events under (`myco/`). Default []. */
      readonly custom_events: readonly string[];
    };
    /** Accept a NATS server that lets unauthenticated clients in. Default false (`reactor serve` refuses it). */
    readonly insecure: boolean;
  };
  readonly stream: {
    /** Default `EVENTS`. */
    readonly name: string;
    /** Default 1. */
    readonly replicas: number;
    /** Seconds. Default 7d. */
    readonly max_age: number;
    /** Bytes. Default 1GiB. */
    readonly max_bytes: number;
    /** Seconds. Default 2m. */
    readonly duplicate_window: number;
    /** Default `file`. */
    readonly storage: "file" | "memory";
  };
  readonly consumer: {
    /** Default `reactor`. */
    readonly durable: string;
    /** Seconds. Default 30s. */
    readonly ack_wait: number;
    /**
     * Deliveries of one event before JetStream gives up on it. Default 100: the engine fails an event
     * only when the bus does (a render error is reported, not retried), and redeliveries come back
     * within 5 s, so 100 rides out minutes of cluster trouble without losing the event.
     */
    readonly max_deliver: number;
    /** Default 1000. */
    readonly max_ack_pending: number;
  };
  /** The compiled reactor map, in map order. Default []. */
  readonly reactor: readonly ReactorMapEntry[];
  /**
   * Salt's `file_roots`: environment -> directories (absolute, first match wins) served by the file
   * server (DESIGN.md 11.4) and resolving `salt://` paths of the reactor map (base env).
   * Default `{base: [/srv/salt]}` when that directory exists, else {}.
   */
  readonly file_roots: Roots;
  /** The map file when `reactor:` names one (absolute). */
  readonly reactor_map_file?: string;
  readonly keys: {
    /** Accept every key. Default false. */
    readonly auto_accept: boolean;
    /** Agent id globs accepted on first contact. Default []. */
    readonly autosign: readonly string[];
    /** Agent id globs rejected on first contact. Default []. */
    readonly autoreject: readonly string[];
    /** Grain name -> accepted values. Default {}. */
    readonly autosign_grains: Readonly<Record<string, readonly string[]>>;
    /**
     * The service's key pair (nkey seed file, created on first start, mode 0600). It signs jobs and the
     * service's own events; CLI commands on the service host use it too (REACTOR_KEY_FILE).
     * Default `/var/lib/nats-reactor/service/service.nk`; relative paths resolve against this file.
     */
    readonly service_key: string;
    /** Public keys (operators' CLI keys) trusted like the service key. Default []. */
    readonly admin_keys: readonly string[];
    /** Most pending keys; a new id that would pend beyond it is refused (and retries). 0 = no cap. Default 500. */
    readonly max_pending: number;
    /** New ids per second in the handshake, all together (known ids are never limited). 0 = no limit. Default 10. */
    readonly new_id_rate: number;
    /** Burst allowance of new_id_rate. Default 200. */
    readonly new_id_burst: number;
    /** New ids per second of one claimed id prefix (`web12.example.com` -> `web`). 0 = no limit. Default 5. */
    readonly new_id_prefix_rate: number;
    /** Burst allowance of new_id_prefix_rate. Default 100. */
    readonly new_id_prefix_burst: number;
    /**
     * Act only on events signed by an accepted agent within its own namespace, or by a trusted key.
     * Default true. `false` turns authenticity off (a closed lab; never in production).
     */
    readonly verify_events: boolean;
  };
  readonly limits: {
    /** Default 1MiB. */
    readonly max_event_bytes: number;
    /** Longest causation chain. Default 5. */
    readonly max_depth: number;
    /** Reactions running at once. Default 64. */
    readonly concurrency: number;
    /** Reactions waiting. Default 10000. */
    readonly queue: number;
    /** Default 3. */
    readonly dispatch_retries: number;
    /** Events per second one agent may cause reactions with (sustained); over it they are dropped and reported. Default 200; 0 = no limit. */
    readonly per_source_rate: number;
    /** Burst allowance of per_source_rate. Default 1000. */
    readonly per_source_burst: number;
  };
  /** Default level `info`. */
  readonly logging: { readonly level: LogLevel };
  /** `listen` (`host:port`) serves Prometheus metrics and health. Default: off. */
  readonly metrics: { readonly listen?: string };
  /** Webhooks (`salt/netapi/hook/...`) and the SSE event stream. Default: off. */
  readonly http?: HttpConfig;
  /** The REST API (salt-api's rest_cherrypy, with Salt's key names). Default: off. */
  readonly api?: ApiConfig;
}

/** Log levels. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Top-level keys of reactor.yaml. */
export const SERVICE_CONFIG_KEYS = ["nats", "stream", "consumer", "reactor", "keys", "limits", "logging", "metrics", "http", "file_roots", ...API_CONFIG_KEYS] as const;

/** Options of compiling reactor.yaml. */
export interface ServiceConfigOptions {
  /** SLS paths that name no file: `error` (default) or `defer` to render time (`reactor test`). */
  readonly missingSls?: MissingSls;
}

/** Reads and compiles reactor.yaml. Throws ConfigError or ConfigErrors. */
export async function loadServiceConfig(path: string, opts: ServiceConfigOptions = {}): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError({ file: path }, `cannot read the service configuration: ${errorMessage(err)}`, { cause: err });
  }
  return compileServiceConfig(text, path, opts);
}

/** Compiles the text of reactor.yaml; `file` names it in errors and relative paths resolve against its folder. */
export function compileServiceConfig(text: string, file: string, opts: ServiceConfigOptions = {}): ServiceConfig {
  const src = parseYaml(text, file);
  const c = new FieldChecker(src, [], opts.missingSls);
  const raw = src.value ?? {};
  if (!isMap(raw)) throw new ConfigErrors([src.error([], "must be a map of service settings")]);
  c.unknownKeys(raw, [], SERVICE_CONFIG_KEYS);
  const dir = file.startsWith("<") ? process.cwd() : dirname(resolve(file));
  const rel = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const fileRoots = compileRoots(raw["file_roots"], ["file_roots"], rel, (p, r) => c.fail(p, r), DEFAULT_FILE_ROOT);
  const map = reactorMap(raw["reactor"], c, dir, rel, fileRoots["base"] ?? []);
  const httpc = compileHttpConfig(raw["http"], src);
  c.errors.push(...httpc.errors);
  const http = httpc.config;
  const apic = compileApiConfig(raw, src);
  c.errors.push(...apic.errors);
  const metricsListen = c.optStr(c.section(raw["metrics"], ["metrics"], ["listen"])["listen"], ["metrics", "listen"]);
  if (metricsListen !== undefined && !parseListen(metricsListen)) c.fail(["metrics", "listen"], `must be host:port, got ${JSON.stringify(metricsListen)}`);
  const config: ServiceConfig = {
    file,
    nats: nats(raw["nats"], c, rel),
    stream: stream(raw["stream"], c),
    consumer: consumer(raw["consumer"], c),
    reactor: map.entries,
    file_roots: fileRoots,
    ...(map.file !== undefined ? { reactor_map_file: map.file } : {}),
    keys: keys(raw["keys"], c, rel),
    limits: limits(raw["limits"], c),
    logging: { level: c.oneOf(c.section(raw["logging"], ["logging"], ["level"])["level"], ["logging", "level"], LOG_LEVELS, "info") },
    metrics: optional({ listen: metricsListen }),
    ...(http ? { http } : {}),
    ...(apic.config ? { api: apic.config } : {}),
  };
  if (c.errors.length) throw new ConfigErrors(c.errors);
  // Entries hold compiled objects (templates, globs) owned by their modules: freeze them shallowly.
  for (const e of map.entries) {
    for (const r of e.sls) Object.freeze(Object.freeze(r).files);
    Object.freeze(Object.freeze(e).sls);
  }
  return deepFreeze(config, config.reactor);
}

function reactorMap(raw: unknown, c: FieldChecker, dir: string, rel: (p: string) => string, roots: readonly string[]): { entries: ReactorMapEntry[]; file?: string } {
  if (typeof raw !== "string") return { entries: compileReactorMap(raw, ["reactor"], dir, c, roots) };
  const file = rel(raw);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    c.fail(["reactor"], `names a map file that cannot be read: ${errorMessage(err)}`);
    return { entries: [] };
  }
  const shown = isAbsolute(raw) ? raw : join(dirname(c.src.file), raw);
  let src: YamlSource;
  try {
    src = parseYaml(text, shown);
  } catch (err) {
    if (err instanceof ConfigError) c.errors.push(err);
    return { entries: [], file };
  }
  const mc = new FieldChecker(src, c.errors, c.missingSls);
  const value = isMap(src.value) && "reactor" in src.value ? src.value["reactor"] : src.value;
  const base = isMap(src.value) && "reactor" in src.value ? ["reactor"] : [];
  if (isMap(src.value)) mc.unknownKeys(src.value, [], ["reactor"]);
  return { entries: compileReactorMap(value, base, dirname(file), mc, roots), file };
}

function nats(raw: unknown, c: FieldChecker, rel: (p: string) => string): ServiceConfig["nats"] {
  const n = c.section(raw, ["nats"], ["servers", "creds", "tls", "name", "auth", "insecure"]);
  const creds = c.optStr(n["creds"], ["nats", "creds"]);
  const name = c.optStr(n["name"], ["nats", "name"]);
  let tls: ServiceConfig["nats"]["tls"];
  if (n["tls"] !== undefined && n["tls"] !== null) {
    const t = c.section(n["tls"], ["nats", "tls"], ["cert", "key", "ca"]);
    const f = (k: string) => c.optStr(t[k], ["nats", "tls", k]);
    tls = optional({ cert: mapOpt(f("cert"), rel), key: mapOpt(f("key"), rel), ca: mapOpt(f("ca"), rel) });
  }
  let auth: ServiceConfig["nats"]["auth"];
  if (n["auth"] !== undefined && n["auth"] !== null) {
    const a = c.section(n["auth"], ["nats", "auth"], ["users_file", "bootstrap_password_file", "server_pid_file", "custom_events"]);
    const f = (k: string) => mapOpt(c.optStr(a[k], ["nats", "auth", k]), rel);
    const usersFile = f("users_file");
    if (usersFile === undefined) c.fail(["nats", "auth", "users_file"], "is required");
    const customEvents = c.strList(a["custom_events"], ["nats", "auth", "custom_events"], []);
    for (const [i, p] of customEvents.entries()) {
      const first = p.split("/").find((x) => x !== "");
      if (first === undefined || first === "salt" || first === "reactor") c.fail(["nats", "auth", "custom_events", i], "must be a tag prefix outside salt/ and reactor/");
    }
    auth = optional({
      users_file: usersFile ?? "",
      bootstrap_password_file: f("bootstrap_password_file"),
      server_pid_file: f("server_pid_file"),
      custom_events: customEvents,
    }) as ServiceConfig["nats"]["auth"];
  }
  return optional({
    servers: c.strList(n["servers"], ["nats", "servers"], ["nats://127.0.0.1:4222"]),
    creds: mapOpt(creds, rel),
    tls,
    name,
    auth,
    insecure: c.bool(n["insecure"], ["nats", "insecure"], false),
  }) as ServiceConfig["nats"];
}

function stream(raw: unknown, c: FieldChecker): ServiceConfig["stream"] {
  const s = c.section(raw, ["stream"], ["name", "replicas", "max_age", "max_bytes", "duplicate_window", "storage"]);
  const p = (k: string) => ["stream", k];
  return {
    name: c.str(s["name"], p("name"), "EVENTS"),
    replicas: c.int(s["replicas"], p("replicas"), 1),
    max_age: c.duration(s["max_age"], p("max_age"), 7 * 86400),
    max_bytes: c.size(s["max_bytes"], p("max_bytes"), 1024 ** 3),
    duplicate_window: c.duration(s["duplicate_window"], p("duplicate_window"), 120),
    storage: c.oneOf(s["storage"], p("storage"), ["file", "memory"] as const, "file"),
  };
}

function consumer(raw: unknown, c: FieldChecker): ServiceConfig["consumer"] {
  const s = c.section(raw, ["consumer"], ["durable", "ack_wait", "max_deliver", "max_ack_pending"]);
  const p = (k: string) => ["consumer", k];
  return {
    durable: c.str(s["durable"], p("durable"), "reactor"),
    ack_wait: c.duration(s["ack_wait"], p("ack_wait"), 30),
    max_deliver: c.int(s["max_deliver"], p("max_deliver"), 100),
    max_ack_pending: c.int(s["max_ack_pending"], p("max_ack_pending"), 1000),
  };
}

function keys(raw: unknown, c: FieldChecker, rel: (p: string) => string): ServiceConfig["keys"] {
  const k = c.section(raw, ["keys"], ["auto_accept", "autosign", "autoreject", "autosign_grains", "service_key", "admin_keys", "verify_events", "max_pending", "new_id_rate", "new_id_burst", "new_id_prefix_rate", "new_id_prefix_burst"]);
  const grains: Record<string, readonly string[]> = {};
  const g = c.section(k["autosign_grains"], ["keys", "autosign_grains"], Object.keys(isMap(k["autosign_grains"]) ? k["autosign_grains"] : {}));
  for (const [name, values] of Object.entries(g)) {
    grains[name] = c.strList(typeof values === "number" ? String(values) : values, ["keys", "autosign_grains", name]);
  }
  return {
    auto_accept: c.bool(k["auto_accept"], ["keys", "auto_accept"], false),
    autosign: c.strList(k["autosign"], ["keys", "autosign"]),
    autoreject: c.strList(k["autoreject"], ["keys", "autoreject"]),
    autosign_grains: grains,
    service_key: rel(c.optStr(k["service_key"], ["keys", "service_key"]) ?? "/var/lib/nats-reactor/service/service.nk"),
    admin_keys: c.strList(k["admin_keys"], ["keys", "admin_keys"]),
    verify_events: c.bool(k["verify_events"], ["keys", "verify_events"], true),
    max_pending: c.int(k["max_pending"], ["keys", "max_pending"], 500, 0),
    new_id_rate: c.int(k["new_id_rate"], ["keys", "new_id_rate"], 10, 0),
    new_id_burst: c.int(k["new_id_burst"], ["keys", "new_id_burst"], 200, 1),
    new_id_prefix_rate: c.int(k["new_id_prefix_rate"], ["keys", "new_id_prefix_rate"], 5, 0),
    new_id_prefix_burst: c.int(k["new_id_prefix_burst"], ["keys", "new_id_prefix_burst"], 100, 1),
  };
}

function limits(raw: unknown, c: FieldChecker): ServiceConfig["limits"] {
  const l = c.section(raw, ["limits"], ["max_event_bytes", "max_depth", "concurrency", "queue", "dispatch_retries", "per_source_rate", "per_source_burst"]);
  const p = (k: string) => ["limits", k];
  return {
    max_event_bytes: c.size(l["max_event_bytes"], p("max_event_bytes"), 1024 * 1024),
    max_depth: c.int(l["max_depth"], p("max_depth"), 5),
    concurrency: c.int(l["concurrency"], p("concurrency"), 64),
    queue: c.int(l["queue"], p("queue"), 10000),
    dispatch_retries: c.int(l["dispatch_retries"], p("dispatch_retries"), 3, 0),
    per_source_rate: c.int(l["per_source_rate"], p("per_source_rate"), 200, 0),
    per_source_burst: c.int(l["per_source_burst"], p("per_source_burst"), 1000, 1),
  };
}


function mapOpt(v: string | undefined, f: (s: string) => string): string | undefined {
  return v === undefined ? undefined : f(v);
}

/** Drops undefined fields (so optional fields are absent, not undefined). */
function optional<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Freezes the settings deeply, then puts the (shallowly frozen) reactor entries back. */
function deepFreeze(config: ServiceConfig, reactor: readonly ReactorMapEntry[]): ServiceConfig {
  const freeze = (v: unknown): void => {
    if (v === null || typeof v !== "object" || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const x of Object.values(v)) freeze(x);
  };
  const out = { ...config, reactor: Object.freeze([...reactor]) };
  for (const [k, v] of Object.entries(out)) if (k !== "reactor") freeze(v);
  return Object.freeze(out);
}
