/**
 * How an agent reaches NATS and the key service (docs/security.md, "NATS permissions").
 *
 * Without `nats.bootstrap_password_file`: one connection (creds or none), then the handshake.
 * With it (the generated auth): the agent's own key is its NATS nkey user. While the key is not
 * accepted the server does not know that user, so the agent connects as the bootstrap user (which
 * may only ask `reactor.auth`), does the handshake, and once accepted connects as itself (the
 * service adds the user and reloads the server; the agent retries until the server lets it in).
 * Every connection of an agent uses its own inbox prefix, the only replies its user may receive.
 */
import { readFile } from "node:fs/promises";
import { isAuthFailure, openConnection, type Connection, type ConnectOptions } from "../bus/index.js";
import type { AgentConfig } from "../config/index.js";
import { AuthError, errorMessage, type Logger } from "../core/index.js";
import { authenticate, pause, type AgentIdentity, type AuthSession } from "../agent/index.js";
import { BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_USER, agentInboxPrefix } from "../keys/index.js";

/** A connected, accepted agent. */
export interface AgentLink {
  readonly conn: Connection;
  readonly session: AuthSession;
}

/** Options of connectAgent. */
export interface AgentLinkOptions {
  readonly config: AgentConfig;
  readonly identity: AgentIdentity;
  readonly grains: () => Promise<Record<string, unknown>>;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/** Connects and authenticates; resolves once the key is accepted and the agent's own connection is up. */
export async function connectAgent(o: AgentLinkOptions): Promise<AgentLink> {
  const { config, log } = o;
  const base: ConnectOptions = {
    servers: config.nats.servers,
    name: `agent ${config.id}`,
    log: log.child({ component: "nats" }),
    inboxPrefix: agentInboxPrefix(config.id),
    checkJetStream: false,
    ...(config.nats.tls ? { tls: config.nats.tls } : {}),
  };
  const auth = (conn: Connection, grains: Record<string, unknown>) =>
    authenticate({
      conn,
      id: config.id,
      identity: o.identity,
      stateDir: config.state_dir,
      grains,
      log,
      ...(config.service_pub ? { servicePub: config.service_pub } : {}),
      ...(config.service_finger ? { serviceFinger: config.service_finger } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  if (!config.nats.bootstrap_password_file) {
    const conn = await openConnection({
      ...base,
      waitOnFirstConnect: true,
      ...(config.nats.creds ? { creds: config.nats.creds } : {}),
    });
    return { conn, session: await closingOnError(conn, async () => auth(conn, await o.grains())) };
  }
  const seed = (await readFile(o.identity.seedFile, "utf8")).trim();
  const password = await readPassword(config.nats.bootstrap_password_file);
  const own = (): Promise<Connection | "unknown-user"> =>
    retryUnreachable(() => openConnection({ ...base, nkeySeed: seed, timeoutMs: 5000 }), log, o.signal).catch(
      (err: unknown) => {
        if (isAuthFailure(err)) return "unknown-user" as const;
        throw err;
      },
    );
  const first = await own();
  if (first !== "unknown-user")
    return { conn: first, session: await closingOnError(first, async () => auth(first, await o.grains())) };

  log.info(
    { id: config.id },
    "the NATS server does not know this agent's key yet: handshake as the bootstrap user",
  );
  // A server in the middle of a reload (the service reloads it each time a key is accepted) can
  // refuse a user it knows: the bootstrap user's refusal is final only after 30 s of retries.
  const bootUntil = Date.now() + 30_000;
  const boot = await retryUnreachable(
    async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await openConnection({
            ...base,
            name: `agent ${config.id} (bootstrap)`,
            inboxPrefix: BOOTSTRAP_INBOX_PREFIX,
            user: { name: BOOTSTRAP_USER, password },
            timeoutMs: 5000,
          });
        } catch (err) {
          if (!isAuthFailure(err) || Date.now() > bootUntil) throw err;
          if (attempt === 0) log.warn({ err: errorMessage(err) }, "the bootstrap user was refused; retrying (the server may be reloading)");
          await pause(Math.min(2000, 100 * 2 ** attempt), o.signal);
        }
      }
    },
    log,
    o.signal,
  );
  const session = await closingOnError(boot, async () => auth(boot, await o.grains()));
  await boot.close();
  // Accepted: the service adds the user and reloads the server; wait until it lets this key in.
  for (let attempt = 0; ; attempt++) {
    const c = await own();
    if (c !== "unknown-user") return { conn: c, session };
    if (attempt === 0)
      log.info({ id: config.id }, "accepted; waiting for the NATS server to know this agent's key");
    await pause(Math.min(2000, 50 * 2 ** attempt), o.signal);
  }
}

async function closingOnError<T>(conn: Connection, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

/** Retries a connect while the server is unreachable (started after the agent); an auth failure is returned at once. */
async function retryUnreachable(
  connect: () => Promise<Connection>,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<Connection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (isAuthFailure(err)) throw err;
      if (attempt === 0) log.warn({ err: errorMessage(err) }, "NATS not reachable; retrying");
      await pause(Math.min(2000, 100 * 2 ** attempt), signal);
    }
  }
}

async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (err) {
    throw new AuthError(`cannot read nats.bootstrap_password_file ${file}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

