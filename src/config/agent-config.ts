/**
 * `agent.yaml` (DESIGN.md section 4) -> a frozen, fully-defaulted, typed `AgentConfig`.
 * Every problem is collected and reported together, each naming file:line and the field path.
 */
import { readFile } from "node:fs/promises";
import { lookup, lookupService } from "node:dns/promises";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, ConfigErrors, errorMessage } from "../core/errors.js";
import { parseYaml, type FieldPath, type YamlSource } from "./yaml.js";
import { AGENT_ID_RULE, agentIdViolation, isAgentId, isMap } from "../core/index.js";
import { compileRoots, DEFAULT_FILE_ROOT, DEFAULT_PILLAR_ROOT, type Roots } from "./file-roots.js";

/** Default state directory of an agent. */
export const DEFAULT_AGENT_STATE_DIR = "/var/lib/nats-reactor/agent";
/** Default NATS server of an agent. */
export const DEFAULT_AGENT_NATS_SERVER = "nats://127.0.0.1:4222";

/** The argv commands of one service, for hosts without systemd (service_manager: command). */
export interface ServiceCommands {
  /** Exit 0 means running. */
  readonly check: readonly string[];
  /** Started detached; the agent then polls `check`. */
  readonly start: readonly string[];
  readonly stop: readonly string[];
  /** Default: stop then start. */
  readonly restart?: readonly string[];
  /** Default: none (service.reload fails). */
  readonly reload?: readonly string[];
}

/** Mine function arguments: a list (positional or Salt's list of one-key maps) or a map (with `mine_function`). */
export type MineFunctionSpec = readonly unknown[] | Readonly<Record<string, unknown>>;

/** The compiled agent configuration. */
export interface AgentConfig {
  /** The file it came from (absolute), or `<inline>`. */
  readonly file: string;
  /** Agent id. Default: the host's FQDN. */
  readonly id: string;
  readonly nats: {
    /** Default: [`nats://127.0.0.1:4222`]; `--nats URL` and NATS_URL override it. */
    readonly servers: readonly string[];
    /** Credentials file (absolute). */
    readonly creds?: string;
    /** TLS to the servers: CA bundle, and a client certificate and key when the server verifies clients (absolute). */
    readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
    /**
     * The bootstrap user's password file of the generated NATS auth (docs/security.md). With it, the
     * agent authenticates to NATS with its own key (an nkey user the service adds once the key is
     * accepted) and does the handshake as the bootstrap user until then. Default: none (absolute).
     */
    readonly bootstrap_password_file?: string;
  };
  /** The service's public key (`U...`), pinned ahead of time instead of trusted on first use. Default: none. */
  readonly service_pub?: string;
  /** The service key's fingerprint as `reactor key finger` prints it (Salt's `master_finger`). Default: none. */
  readonly service_finger?: string;
  /** Keys, job records, event buffer. Default /var/lib/nats-reactor/agent; relative to the file. */
  readonly state_dir: string;
  /** Beacons file. Default `beacons.yaml` beside this file. */
  readonly beacons_file: string;
  /** `auto` (default): systemd where PID 1 is systemd, else `command`. */
  readonly service_manager: "auto" | "systemd" | "command";
  /** Per-service argv commands. Default {}. */
  readonly services: Readonly<Record<string, ServiceCommands>>;
  /** Directory of user execution modules (`.js`/`.mjs`), absolute. Default: none. */
  readonly modules_dir?: string;
  /**
   * Salt's `file_client`: where `salt://` files come from. `remote` (default): the service's file
   * server over NATS (DESIGN.md 11.4); `local`: this host's `file_roots` (masterless).
   */
  readonly file_client: "local" | "remote";
  /** Salt's `file_roots` for `file_client: local` (absolute). Default `{base: [/srv/salt]}` when it exists, else {}. */
  readonly file_roots: Roots;
  /** Salt's `pillar_roots` (absolute; parsed and kept, pillar is not built yet). Default `{base: [/srv/pillar]}` when it exists, else {}. */
  readonly pillar_roots: Roots;
  /** Static grains, merged over the detected ones. Default {}. */
  readonly grains: Readonly<Record<string, unknown>>;
  /** Salt's `mine_functions`, kept as written (the mine interprets the three forms). Default {}. */
  readonly mine_functions: Readonly<Record<string, MineFunctionSpec>>;
  /** Seconds between mine updates. YAML: minutes as in Salt (a number), or a duration (`90s`). Default 60 minutes. */
  readonly mine_interval: number;
  /** Emit `salt/mine/<id>/<fun>/changed` (with the new value) when a mine value changes. Default false. */
  readonly mine_change_events: boolean;
  /** Seconds a job may run when the job names none. YAML: seconds or a duration. Default 60. */
  readonly job_timeout: number;
  /** Jobs run at once; more wait in a queue. Default 8. */
  readonly max_concurrent_jobs: number;
  readonly buffer: {
    /** Events buffered while NATS is unreachable (oldest dropped first). Default 10000. */
    readonly max_events: number;
  };
  /** `listen` (`host:port`) serves the agent's Prometheus metrics and /healthz. Default: off. */
  readonly metrics: { readonly listen?: string };
  /** The haproxy module's default runtime API socket (Salt's `/var/run/haproxy.sock` when unset). */
  readonly haproxy: { readonly socket?: string };
}

/** Values that win over the file (command line, environment). */
export interface AgentConfigOverrides {
  readonly id?: string;
  readonly servers?: readonly string[];
  readonly state_dir?: string;
  readonly bootstrap_password_file?: string;
}

const KNOWN = [
  "id",
  "nats",
  "state_dir",
  "beacons_file",
  "service_manager",
  "services",
  "modules_dir",
  "grains",
  "mine_functions",
  "mine_interval",
  "mine_change_events",
  "job_timeout",
  "max_concurrent_jobs",
  "buffer",
  "metrics",
  "haproxy",
  "service_pub",
  "service_finger",
  "file_client",
  "file_roots",
  "pillar_roots",
] as const;
const SERVICE_KEYS = ["check", "start", "stop", "restart", "reload"] as const;

/** Reads and compiles an agent file. Without an `id`, looks up the host's FQDN. */
export async function loadAgentConfig(
  path: string,
  overrides: AgentConfigOverrides = {},
): Promise<AgentConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError({ file }, `cannot read agent file: ${errorMessage(err)}`, { cause: err });
  }
  const needsHost = overrides.id === undefined && !/^\s*id\s*:/m.test(text);
  const host = needsHost ? await detectFqdn() : undefined;
  return compileAgentConfig(text, file, { overrides, ...(host !== undefined ? { hostname: host } : {}) });
}

/** The host's FQDN: the hostname if it has a dot, else a reverse lookup of its address, else the hostname. */
export async function detectFqdn(): Promise<string> {
  const host = hostname();
  if (host.includes(".")) return host;
  try {
    const { address } = await lookup(host);
    const { hostname: name } = await lookupService(address, 0);
    return name.includes(".") && name.split(".")[0] === host ? name : host;
  } catch {
    return host;
  }
}

/** Compiles the text of an agent file. Throws ConfigErrors listing every problem. */
export function compileAgentConfig(
  text: string,
  file: string,
  opts: { hostname?: string; overrides?: AgentConfigOverrides } = {},
): AgentConfig {
  const src = parseYaml(text, file);
  const c = new Checker(src);
  const raw = src.value ?? {};
  if (!isMap(raw)) throw new ConfigErrors([src.error([], "must be a map of agent settings")]);
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key))
      c.fail([key], `is not a known field (known: ${KNOWN.join(", ")})`);
  }
  const base = file.startsWith("<") ? process.cwd() : dirname(resolve(file));
  const rel = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const ov = opts.overrides ?? {};
  const id = c.id(ov.id ?? raw["id"], opts.hostname ?? hostname());
  const modulesDir = c.optString(raw["modules_dir"], ["modules_dir"]);
  const config: AgentConfig = {
    file: file.startsWith("<") ? file : resolve(file),
    id,
    nats: c.nats(raw["nats"], rel, ov.servers, ov.bootstrap_password_file),
    ...c.servicePin(raw["service_pub"], raw["service_finger"]),
    state_dir: ov.state_dir ?? rel(c.optString(raw["state_dir"], ["state_dir"]) ?? DEFAULT_AGENT_STATE_DIR),
    beacons_file: rel(c.optString(raw["beacons_file"], ["beacons_file"]) ?? "beacons.yaml"),
    service_manager: c.oneOf(
      raw["service_manager"],
      ["service_manager"],
      ["auto", "systemd", "command"] as const,
      "auto",
    ),
    services: c.services(raw["services"]),
    ...(modulesDir !== undefined ? { modules_dir: rel(modulesDir) } : {}),
    file_client: c.oneOf(raw["file_client"], ["file_client"], ["local", "remote"] as const, "remote"),
    file_roots: compileRoots(raw["file_roots"], ["file_roots"], rel, (p, r) => c.fail(p, r), DEFAULT_FILE_ROOT),
    pillar_roots: compileRoots(raw["pillar_roots"], ["pillar_roots"], rel, (p, r) => c.fail(p, r), DEFAULT_PILLAR_ROOT),
    grains: c.map(raw["grains"], ["grains"]),
    mine_functions: c.mine(raw["mine_functions"]),
    mine_interval: c.duration(raw["mine_interval"], ["mine_interval"], 60, 3600),
    mine_change_events: c.bool(raw["mine_change_events"], ["mine_change_events"], false),
    job_timeout: c.duration(raw["job_timeout"], ["job_timeout"], 1, 60),
    max_concurrent_jobs: c.posInt(raw["max_concurrent_jobs"], ["max_concurrent_jobs"], 8),
    buffer: c.buffer(raw["buffer"]),
    metrics: metricsSection(c, raw["metrics"]),
    haproxy: haproxySection(c, raw["haproxy"], rel),
  };
  if (c.errors.length) throw new ConfigErrors(c.errors);
  return deepFreeze(config);
}

/** Parses `90`, `90s`, `500ms`, `10m`, `2h` into seconds; a bare number is in `unit` seconds. */
export function parseDuration(value: unknown, unit = 1): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value * unit : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ""] ?? unit;
  return n > 0 ? n * scale : undefined;
}

class Checker {
  readonly errors: ConfigError[] = [];
  constructor(private readonly src: YamlSource) {}

  fail(path: FieldPath, reason: string): void {
    this.errors.push(this.src.error(path, reason));
  }

  id(v: unknown, fallback: string): string {
    if (v === undefined || v === null) {
      if (agentIdViolation(fallback) !== undefined) this.fail(["id"], `is not set and the host name ${JSON.stringify(fallback)} is not an agent id (${AGENT_ID_RULE}): set id`);
      return fallback;
    }
    if (!isAgentId(v)) {
      this.fail(["id"], `must be made of ${AGENT_ID_RULE} (the agent id rule)`);
      return fallback;
    }
    return v;
  }

  optString(v: unknown, path: FieldPath): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string" && v.length > 0) return v;
    this.fail(path, "must be a non-empty string");
    return undefined;
  }

  oneOf<T extends string>(v: unknown, path: FieldPath, allowed: readonly T[], def: T): T {
    if (v === undefined || v === null) return def;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    this.fail(path, `must be one of ${allowed.join(", ")}`);
    return def;
  }

  argv(v: unknown, path: FieldPath): readonly string[] {
    if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string" && s.length > 0))
      return v as string[];
    this.fail(path, "must be a non-empty list of strings");
    return [];
  }

  map(v: unknown, path: FieldPath): Record<string, unknown> {
    if (v === undefined || v === null) return {};
    if (isMap(v)) return v;
    this.fail(path, "must be a map");
    return {};
  }

  bool(v: unknown, path: FieldPath, def: boolean): boolean {
    if (v === undefined || v === null) return def;
    if (typeof v === "boolean") return v;
    this.fail(path, `must be true or false, got ${JSON.stringify(v)}`);
    return def;
  }

  posInt(v: unknown, path: FieldPath, def: number): number {
    if (v === undefined || v === null) return def;
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
    this.fail(path, "must be a positive integer");
    return def;
  }

  duration(v: unknown, path: FieldPath, unit: number, def: number): number {
    if (v === undefined || v === null) return def;
    const s = parseDuration(v, unit);
    if (s !== undefined) return s;
    this.fail(
      path,
      `must be a positive number${unit === 1 ? " of seconds" : " of minutes"} or a duration such as 30s, 10m, 1h`,
    );
    return def;
  }

  /** `service_pub` (a public nkey) and `service_finger` (colon-separated sha256 hex pairs). */
  servicePin(pub: unknown, finger: unknown): { service_pub?: string; service_finger?: string } {
    const p = this.optString(pub, ["service_pub"]);
    const f = this.optString(finger, ["service_finger"]);
    if (p !== undefined && !/^U[A-Z2-7]{55}$/.test(p)) this.fail(["service_pub"], "must be a public user nkey (U..., 56 characters), as `reactor key finger` shows");
    if (f !== undefined && !/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i.test(f)) this.fail(["service_finger"], "must be a fingerprint as `reactor key finger` prints it (32 colon-separated hex pairs)");
    return { ...(p !== undefined ? { service_pub: p } : {}), ...(f !== undefined ? { service_finger: f.toLowerCase() } : {}) };
  }

  nats(v: unknown, rel: (p: string) => string, servers?: readonly string[], bootstrap?: string): AgentConfig["nats"] {
    const m = this.map(v, ["nats"]);
    const known = ["servers", "creds", "tls", "bootstrap_password_file"];
    for (const k of Object.keys(m))
      if (!known.includes(k))
        this.fail(["nats", k], `is not a known field (known: ${known.join(", ")})`);
    let list: string[] = [DEFAULT_AGENT_NATS_SERVER];
    const raw = m["servers"];
    if (typeof raw === "string" && raw.length > 0) list = [raw];
    else if (Array.isArray(raw) && raw.length > 0 && raw.every((s) => typeof s === "string" && s.length > 0))
      list = raw as string[];
    else if (raw !== undefined && raw !== null)
      this.fail(["nats", "servers"], "must be a URL or a non-empty list of URLs");
    const creds = this.optString(m["creds"], ["nats", "creds"]);
    const tls = this.tls(m["tls"], rel);
    const boot = bootstrap ?? this.optString(m["bootstrap_password_file"], ["nats", "bootstrap_password_file"]);
    return {
      servers: servers ?? list,
      ...(creds !== undefined ? { creds: rel(creds) } : {}),
      ...(tls ? { tls } : {}),
      ...(boot !== undefined ? { bootstrap_password_file: rel(boot) } : {}),
    };
  }

  /** `nats.tls: {ca, cert, key}`, paths relative to the file; cert and key go together. */
  tls(v: unknown, rel: (p: string) => string): { ca?: string; cert?: string; key?: string } | undefined {
    if (v === undefined || v === null) return undefined;
    const m = this.map(v, ["nats", "tls"]);
    const out: { ca?: string; cert?: string; key?: string } = {};
    for (const [k, raw] of Object.entries(m)) {
      if (k !== "ca" && k !== "cert" && k !== "key") {
        this.fail(["nats", "tls", k], "is not a known field (known: ca, cert, key)");
        continue;
      }
      const path = this.optString(raw, ["nats", "tls", k]);
      if (path !== undefined) out[k] = rel(path);
    }
    if ((out.cert === undefined) !== (out.key === undefined)) this.fail(["nats", "tls"], "cert and key must be given together");
    return out;
  }

  services(v: unknown): Record<string, ServiceCommands> {
    const out: Record<string, ServiceCommands> = {};
    for (const [name, spec] of Object.entries(this.map(v, ["services"]))) {
      const path = ["services", name];
      if (!isMap(spec)) {
        this.fail(path, "must be a map with check, start and stop commands");
        continue;
      }
      for (const k of Object.keys(spec)) {
        if (!(SERVICE_KEYS as readonly string[]).includes(k))
          this.fail([...path, k], `is not a known field (known: ${SERVICE_KEYS.join(", ")})`);
      }
      const opt = (k: "restart" | "reload") =>
        spec[k] === undefined ? {} : { [k]: this.argv(spec[k], [...path, k]) };
      out[name] = {
        check: this.argv(spec["check"], [...path, "check"]),
        start: this.argv(spec["start"], [...path, "start"]),
        stop: this.argv(spec["stop"], [...path, "stop"]),
        ...opt("restart"),
        ...opt("reload"),
      };
    }
    return out;
  }

  mine(v: unknown): Record<string, MineFunctionSpec> {
    const out: Record<string, MineFunctionSpec> = {};
    for (const [name, spec] of Object.entries(this.map(v, ["mine_functions"]))) {
      if (spec === null || spec === undefined) out[name] = [];
      else if (Array.isArray(spec) || isMap(spec)) out[name] = spec;
      else this.fail(["mine_functions", name], "must be a list of arguments or a map");
    }
    return out;
  }

  buffer(v: unknown): AgentConfig["buffer"] {
    const m = this.map(v, ["buffer"]);
    for (const k of Object.keys(m))
      if (k !== "max_events") this.fail(["buffer", k], "is not a known field (known: max_events)");
    return { max_events: this.posInt(m["max_events"], ["buffer", "max_events"], 10_000) };
  }
}


function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** A section holding one optional string field (`metrics: {listen}`, `haproxy: {socket}`). */
function oneFieldSection(c: Checker, raw: unknown, section: string, field: string, shape: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    c.fail([section], `must be a map with \`${field}: ${shape}\``);
    return undefined;
  }
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m)) if (k !== field) c.fail([section, k], `is not a known field (known: ${field})`);
  return c.optString(m[field], [section, field]);
}

function metricsSection(c: Checker, raw: unknown): AgentConfig["metrics"] {
  const listen = oneFieldSection(c, raw, "metrics", "listen", "host:port");
  if (listen !== undefined && !/^(?:\[[^\]]+\]|[^:]*):\d{1,5}$/.test(listen)) c.fail(["metrics", "listen"], `must be host:port, got ${JSON.stringify(listen)}`);
  return listen === undefined ? {} : { listen };
}

function haproxySection(c: Checker, raw: unknown, rel: (p: string) => string): AgentConfig["haproxy"] {
  const socket = oneFieldSection(c, raw, "haproxy", "socket", "PATH");
  return socket === undefined ? {} : { socket: rel(socket) };
}
