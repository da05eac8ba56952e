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
import { silentLogger, type Logger } from "../core/index.js";

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
  readonly publisher: EventPublisher;
  readonly streamName: string;
  readonly maxEventBytes: number;
  close(): Promise<void>;
}

/** Connects and ensures the EVENTS stream (with default settings when it does not exist yet). */
export async function openClient(opts: { servers: string[]; name: string; log?: Logger; ensureStream?: boolean }): Promise<Client> {
  const log = opts.log ?? silentLogger;
  const conn = await openConnection({ servers: opts.servers, name: opts.name, log, timeoutMs: 5000, jetStreamWaitMs: 5000 });
  const settings = defaultStreamSettings();
  try {
    const info = await conn.jsm.streams.info(settings.name).catch(() => undefined);
    if (!info && opts.ensureStream !== false) await ensureEventStream(conn, settings);
    const maxEventBytes = info && info.config.max_msg_size > 0 ? info.config.max_msg_size - 4096 : settings.maxEventBytes;
    return {
      conn,
      publisher: createEventPublisher(conn, { maxEventBytes, retryForMs: 10_000 }),
      streamName: settings.name,
      maxEventBytes,
      close: () => conn.close(),
    };
  } catch (err) {
    await conn.close();
    throw err;
  }
}
