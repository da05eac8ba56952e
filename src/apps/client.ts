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
  type EventPublisher,
} from "../bus/index.js";
import { existsSync } from "node:fs";
import { signEvent, signJob } from "../core/auth/index.js";
import { silentLogger, type Logger } from "../core/index.js";
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
  const conn = await openConnection({ servers: opts.servers, name: opts.name, log, timeoutMs: 5000, jetStreamWaitMs: 5000 });
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
