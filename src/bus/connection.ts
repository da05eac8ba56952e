/**
 * Connecting to NATS: reconnect forever with jitter, log every status change, drain on close.
 */
import { connect, credsAuthenticator, nkeyAuthenticator, usernamePasswordAuthenticator, type Authenticator, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { readFile } from "node:fs/promises";
import { BusError, errorMessage, silentLogger, type Logger } from "../core/index.js";

/** How to reach NATS. */
export interface ConnectOptions {
  /** Server URLs, e.g. `["nats://127.0.0.1:4222"]`. */
  servers: readonly string[];
  /** Client name shown by the server (`reactor-service`, `agent web1`). */
  name?: string;
  /** Path of a NATS credentials file. */
  creds?: string;
  /** An nkey seed (`SU...`) to authenticate with (a user of a generated auth config, docs/security.md). */
  nkeySeed?: string;
  /** User and password (the bootstrap user of a generated auth config). */
  user?: { name: string; password: string };
  /** Prefix of this client's reply subjects (default `_INBOX`); the generated permissions allow each identity only its own. */
  inboxPrefix?: string;
  /** Ask the server's JetStream API for account info before returning (default true). Agents skip it: their permissions do not allow it. */
  checkJetStream?: boolean;
  /** TLS: client certificate and key, and the CA that signed the server's certificate (file paths). */
  tls?: { cert?: string; key?: string; ca?: string };
  /** Give up the first connect after this many ms (default 10 s). Reconnects after that never stop. */
  timeoutMs?: number;
  /** Keep trying the first connect forever (agents started before the server). Default false. */
  waitOnFirstConnect?: boolean;
  /** How long to wait for JetStream to answer (a cluster elects its meta leader first). Default 30 s. */
  jetStreamWaitMs?: number;
  log?: Logger;
}

/** A live connection with its JetStream handles. */
export interface Connection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly log: Logger;
  /** Server version, e.g. `2.9.10`. */
  readonly serverVersion: string;
  /** Drains and closes; idempotent. */
  close(): Promise<void>;
}

/** Connects, with infinite reconnects, and logs status changes. */
export async function openConnection(opts: ConnectOptions): Promise<Connection> {
  const log = opts.log ?? silentLogger;
  const servers = [...opts.servers];
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name ?? "nats-reactor",
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 250,
      timeout: opts.timeoutMs ?? 10_000,
      waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
      ...(await authenticator(opts)),
      ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
      ...(opts.tls
        ? {
            tls: {
              ...(opts.tls.cert ? { certFile: opts.tls.cert } : {}),
              ...(opts.tls.key ? { keyFile: opts.tls.key } : {}),
              ...(opts.tls.ca ? { caFile: opts.tls.ca } : {}),
            },
          }
        : {}),
    });
  } catch (err) {
    throw new BusError(`cannot connect to NATS at ${servers.join(", ")}: ${(err as Error).message}`, { cause: err });
  }
  void logStatus(nc, log);
  const js = jetstream(nc);
  const check = opts.checkJetStream === false ? jetstreamManager(nc, { checkAPI: false }) : waitForJetStream(nc, opts.jetStreamWaitMs ?? 30_000, log);
  const jsm = await check.catch(async (err: unknown) => {
    await nc.close();
    throw new BusError(`JetStream is not available on ${servers.join(", ")} (start nats-server with -js): ${errorMessage(err)}`, {
      cause: err,
    });
  });
  let closing: Promise<void> | undefined;
  return {
    nc,
    js,
    jsm,
    log,
    serverVersion: nc.info?.version ?? "unknown",
    close() {
      closing ??= nc.isClosed()
        ? Promise.resolve()
        : nc.drain().catch(async () => {
            await nc.close();
          });
      return closing;
    },
  };
}

async function authenticator(opts: ConnectOptions): Promise<{ authenticator?: Authenticator }> {
  if (opts.creds) return { authenticator: credsAuthenticator(await readFile(opts.creds)) };
  if (opts.nkeySeed) return { authenticator: nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed)) };
  if (opts.user) return { authenticator: usernamePasswordAuthenticator(opts.user.name, opts.user.password) };
  return {};
}

/**
 * Whether the server lets a client in with no credentials at all (what `reactor serve` refuses
 * unless told otherwise). TLS settings are those of the caller minus the client certificate.
 */
export async function admitsAnonymous(servers: readonly string[], tls?: { ca?: string }): Promise<boolean> {
  try {
    const nc = await connect({
      servers: [...servers],
      name: "reactor-anonymous-probe",
      maxReconnectAttempts: 0,
      reconnect: false,
      timeout: 3000,
      ...(tls?.ca ? { tls: { caFile: tls.ca } } : {}),
    });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Whether a connect failed because the server refused the credentials (not because it is unreachable). */
export function isAuthFailure(err: unknown): boolean {
  return /authorization violation|authentication|user authentication|AUTHORIZATION/i.test(errorMessage(err));
}

async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        log.warn({ server: s.server }, "disconnected from NATS");
        break;
      case "reconnect":
        log.info({ server: s.server }, "reconnected to NATS");
        break;
      case "error":
        log.error({ err: s.error }, "NATS error");
        break;
      default:
        log.debug({ status: s.type }, "NATS status");
    }
  }
}

/** Compares dotted versions: is `version` at least `min`? */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(".").map((n) => parseInt(n, 10) || 0);
  const b = min.split(".").map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Retries the JetStream API check: right after a cluster starts, it answers only once a leader exists. */
async function waitForJetStream(nc: NatsConnection, waitMs: number, log: Logger): Promise<JetStreamManager> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await jetstreamManager(nc, { checkAPI: true, timeout: 5000 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      if (attempt === 0) log.warn({ err: errorMessage(err) }, "waiting for JetStream");
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * Waits until JetStream answers again after the server was told to reload its configuration.
 * nats-server 2.9.10 answers "jetstream is not enabled" for a moment during every reload (measured:
 * a few requests of thousands, around each SIGHUP); what runs right after a reload (the agent's new
 * JOBS durable) would fail in that moment. A reload is asynchronous, so this needs `settledChecks`
 * answers in a row, `gapMs` apart, within `waitMs`.
 */
export async function waitForJetStreamSettled(conn: Connection, opts: { waitMs?: number; gapMs?: number; settledChecks?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  const gap = opts.gapMs ?? 25;
  let inRow = 0;
  while (inRow < (opts.settledChecks ?? 4)) {
    await new Promise((r) => setTimeout(r, gap));
    try {
      await conn.jsm.getAccountInfo();
      inRow++;
    } catch (err) {
      inRow = 0;
      if (Date.now() > deadline) throw new BusError(`JetStream did not answer after a configuration reload: ${errorMessage(err)}`, { cause: err });
    }
  }
}
