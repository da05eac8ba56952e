/**
 * A short-lived client for CLI commands: connect, make sure the stream exists, publish or watch,
 * close. Long-running processes (service, agent) have their own composition roots.
 */
import {
  createEventPublisher,
  defaultStreamSettings,
  ensureEventStream,
  openConnection,
  type Connection,
  type ConnectOptions,
  type EventPublisher,
} from "../bus/index.js";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { signEvent, signJob } from "../core/auth/index.js";
import { BusError, errorMessage, silentLogger, type Logger } from "../core/index.js";
import { DEFAULT_SERVICE_KEY_FILE, loadServiceKey, type ServiceKey } from "../keys/index.js";

/** Default server when neither --nats, NATS_URL nor a config file says otherwise. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** `--nats URL`, else `NATS_URL`, else the config's servers, else the default. */
export function resolveServers(flag: string | undefined, fromConfig?: readonly string[]): string[] {
  const raw = flag ?? process.env.NATS_URL;
  if (raw) return raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (fromConfig && fromConfig.length > 0) return [...fromConfig];
  return [DEFAULT_NATS_URL];
}

/** The environment variables of the CLI's NATS credentials (the `--creds`, `--nkey`, `--tls-*` flags set them). */
export const NATS_AUTH_ENV = {
  creds: "NATS_CREDS",
  nkey: "NATS_NKEY",
  tlsCa: "NATS_TLS_CA",
  tlsCert: "NATS_TLS_CERT",
  tlsKey: "NATS_TLS_KEY",
} as const;

/**
 * The CLI's NATS credentials from the environment: a creds file (NATS_CREDS), or an nkey seed file
 * (NATS_NKEY: the service key on its host, an admin key), and TLS files (NATS_TLS_CA, NATS_TLS_CERT,
 * NATS_TLS_KEY). None: an unauthenticated connection, which the generated auth refuses.
 */
export async function cliNatsAuth(env: NodeJS.ProcessEnv = process.env): Promise<Pick<ConnectOptions, "creds" | "nkeySeed" | "tls">> {
  const get = (k: keyof typeof NATS_AUTH_ENV) => (env[NATS_AUTH_ENV[k]] ?? "") || undefined;
  const creds = get("creds");
  const nkey = get("nkey");
  let nkeySeed: string | undefined;
  if (!creds && nkey) {
    try {
      nkeySeed = (await readFile(nkey, "utf8")).trim();
    } catch (err) {
      throw new BusError(`cannot read the NATS nkey seed ${nkey} (--nkey / NATS_NKEY): ${errorMessage(err)}`, { cause: err });
    }
  }
  const [ca, cert, key] = [get("tlsCa"), get("tlsCert"), get("tlsKey")];
  if ((cert === undefined) !== (key === undefined)) throw new BusError("--tls-cert and --tls-key (NATS_TLS_CERT, NATS_TLS_KEY) go together");
  const tls = ca || cert ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : undefined;
  return { ...(creds ? { creds } : {}), ...(nkeySeed ? { nkeySeed } : {}), ...(tls ? { tls } : {}) };
}

/** A connected CLI client. */
export interface Client {
  readonly conn: Connection;
  /** Publishes events, signed with the CLI key when there is one. */
  readonly publisher: EventPublisher;
  /** The key commands are signed with (`--key`, REACTOR_KEY_FILE, or the service key on its host). */
  readonly key?: ServiceKey;
  /** Signs jobs with the key; undefined without a key (agents then refuse the jobs). */
  readonly signJob?: (subject: string, payload: Uint8Array) => string;
  readonly streamName: string;
  readonly maxEventBytes: number;
  close(): Promise<void>;
}

/** Connects and ensures the EVENTS stream (with default settings when it does not exist yet). */
export async function openClient(opts: {
  servers: string[];
  name: string;
  log?: Logger;
  ensureStream?: boolean;
  /** Load the signing key (commands that send events or jobs). Default false. */
  signing?: boolean;
  keyFile?: string;
}): Promise<Client> {
  const log = opts.log ?? silentLogger;
  const key = opts.signing ? await loadCliKey(opts.keyFile) : undefined;
  const conn = await openConnection({ servers: opts.servers, name: opts.name, log, timeoutMs: 5000, jetStreamWaitMs: 5000, ...(await cliNatsAuth()) });
  const settings = defaultStreamSettings();
  try {
    const info = await conn.jsm.streams.info(settings.name).catch(() => undefined);
    if (!info && opts.ensureStream !== false) await ensureEventStream(conn, settings);
    const maxEventBytes = info && info.config.max_msg_size > 0 ? info.config.max_msg_size - 4096 : settings.maxEventBytes;
    return {
      conn,
      publisher: createEventPublisher(conn, { maxEventBytes, retryForMs: 10_000, ...(key ? { sign: (e) => signEvent(e, key) } : {}) }),
      ...(key ? { key, signJob: (subject: string, payload: Uint8Array) => signJob(subject, payload, key) } : {}),
      streamName: settings.name,
      maxEventBytes,
      close: () => conn.close(),
    };
  } catch (err) {
    await conn.close();
    throw err;
  }
}

/**
 * The key CLI commands sign with: `--key FILE`, else REACTOR_KEY_FILE, else the service's default
 * key file when it is readable (a CLI on the service host). None: events go unsigned, and the
 * reactor reports them as rejected instead of acting on them.
 */
export async function loadCliKey(flag?: string): Promise<ServiceKey | undefined> {
  const explicit = flag ?? process.env.REACTOR_KEY_FILE;
  if (explicit) return loadServiceKey(explicit);
  return existsSync(DEFAULT_SERVICE_KEY_FILE) ? loadServiceKey(DEFAULT_SERVICE_KEY_FILE).catch(() => undefined) : undefined;
}
