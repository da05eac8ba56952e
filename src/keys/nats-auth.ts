/**
 * NATS authentication and permissions generated from the accepted keys (docs/security.md, "NATS
 * permissions"). nkeys users in the server's own config, not JWT accounts: the agent's identity is
 * already a user nkey, nats-server 2.9.10 reloads its config on SIGHUP, and an operator/account/JWT
 * chain would add a second key hierarchy to run and rotate for no right the config cannot express.
 *
 * Users of the generated `authorization` block:
 * - the service key (and admin keys): every subject;
 * - `reactor-bootstrap` (a random password the service creates): `reactor.auth` and replies on
 *   `_INBOX_bootstrap.>` only, so a new agent can do the handshake before it has a user;
 * - one user per accepted agent, its key as nkey: its own event subjects, `reactor.auth`, its own
 *   `minions` and `mine` keys (put, delete, direct get), pull requests, info and acks on its own
 *   durable of JOBS, direct gets of the file server's store (read-only), replies on its own inbox
 *   prefix `_INBOX_<encoded id>`. No stream or consumer
 *   management: the service creates them. Reading other agents' mine values goes through the
 *   service (`reactor.mine.get`, signed), which applies the mine ACL.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { FILESERVER_BUCKET, FILESERVER_INDEX_BUCKET, JOBS_STREAM, encodeKeyPart, jobDurable, objectStream } from "../bus/index.js";
import { AUTH_SUBJECT, MINE_REQUEST_SUBJECT, agentInboxPrefix } from "../core/auth/index.js";
import { AuthError, encodeSegment, errorMessage, silentLogger, type Logger } from "../core/index.js";
import { parseKeyKey, type KeyStore } from "./store.js";

/** The user name of the bootstrap identity. */
export const BOOTSTRAP_USER = "reactor-bootstrap";
/** The inbox prefix of bootstrap connections. */
export const BOOTSTRAP_INBOX_PREFIX = "_INBOX_bootstrap";

/** The inbox prefix of an agent's connection (src/core/auth); its permissions allow replies under it only. */
export { agentInboxPrefix };

/** Publish and subscribe allow-lists. */
export interface NatsPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/**
 * An agent's permissions. `customEvents` are tag prefixes (`myco/`) agents may send `event.send`
 * events under; empty by default (salt/ and reactor/ are never allowed there).
 */
export function agentPermissions(agentId: string, customEvents: readonly string[] = []): NatsPermissions {
  const e = encodeSegment(agentId);
  const k = encodeKeyPart(agentId);
  const d = jobDurable(agentId);
  return {
    publish: [
      `evt.salt.beacon.${e}.>`,
      `evt.salt.minion.${e}.>`,
      `evt.salt.mine.${e}.>`,
      `evt.salt.job.*.ret.${e}`,
      ...customEvents.map(customEventSubject),
      AUTH_SUBJECT,
      MINE_REQUEST_SUBJECT,
      `$KV.minions.${k}`,
      `$KV.mine.${k}.>`,
      `$JS.API.DIRECT.GET.KV_minions.$KV.minions.${k}`,
      `$JS.API.DIRECT.GET.KV_mine.$KV.mine.${k}.>`,
      `$JS.API.CONSUMER.INFO.${JOBS_STREAM}.${d}`,
      `$JS.API.CONSUMER.MSG.NEXT.${JOBS_STREAM}.${d}`,
      `$JS.ACK.${JOBS_STREAM}.${d}.>`,
      ...FILE_SERVER_READ,
    ],
    subscribe: [`${agentInboxPrefix(agentId)}.>`],
  };
}

/**
 * Reading the file server's store (DESIGN.md 11.4), direct gets only: an object's meta record by
 * subject, its chunks by sequence, the index records. No consumer (its deliver subject would let an
 * agent make the server publish where the agent may not), no stream info, no publish to `$O.`/`$KV.`.
 */
const FILE_SERVER_READ = [
  `$JS.API.DIRECT.GET.${objectStream(FILESERVER_BUCKET)}`,
  `$JS.API.DIRECT.GET.${objectStream(FILESERVER_BUCKET)}.$O.${FILESERVER_BUCKET}.M.>`,
  `$JS.API.DIRECT.GET.KV_${FILESERVER_INDEX_BUCKET}.$KV.${FILESERVER_INDEX_BUCKET}.>`,
];

/** `myco/` or `myco` -> `evt.myco.>`; refuses salt/ and reactor/ (the service's namespaces). */
function customEventSubject(prefix: string): string {
  const segs = prefix.split("/").filter((s) => s !== "");
  if (segs.length === 0 || segs[0] === "salt" || segs[0] === "reactor") {
    throw new AuthError(
      `custom event prefix ${JSON.stringify(prefix)} must be a tag prefix outside salt/ and reactor/`,
    );
  }
  return `evt.${segs.map(encodeSegment).join(".")}.>`;
}

/** What the generated config is made of. */
export interface NatsAuthInput {
  readonly servicePub: string;
  readonly adminKeys?: readonly string[];
  readonly bootstrapPassword: string;
  /** Accepted agents. */
  readonly agents: readonly { readonly id: string; readonly pub: string }[];
  readonly customEvents?: readonly string[];
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(q).join(", ")}]`;

/** The `authorization { ... }` block for nats-server (include it from the server's config). */
export function natsAuthConfig(input: NatsAuthInput): string {
  const lines = [
    "# Generated by nats-reactor from the accepted keys (reactor nats config); do not edit by hand.",
    "# The reactor service rewrites it when keys are accepted or deleted and reloads nats-server.",
    "authorization {",
    "  users = [",
    `    # the reactor service\n    { nkey: ${q(input.servicePub)} }`,
    ...(input.adminKeys ?? []).map((k) => `    # admin key\n    { nkey: ${q(k)} }`),
    `    # new agents: the handshake only\n    { user: ${q(BOOTSTRAP_USER)}, password: ${q(input.bootstrapPassword)},`,
    `      permissions: { publish: { allow: ${list([AUTH_SUBJECT])} }, subscribe: { allow: ${list([`${BOOTSTRAP_INBOX_PREFIX}.>`])} } } }`,
  ];
  const seen = new Set([input.servicePub, ...(input.adminKeys ?? [])]);
  for (const a of [...input.agents].sort((x, y) => (x.id < y.id ? -1 : 1))) {
    if (seen.has(a.pub)) continue; // one user per nkey: the server refuses duplicates
    seen.add(a.pub);
    const p = agentPermissions(a.id, input.customEvents);
    lines.push(`    # agent ${q(a.id)}`);
    lines.push(`    { nkey: ${q(a.pub)},`);
    lines.push(
      `      permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} } } }`,
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}

/** Reads the bootstrap password file, or creates it (random, mode 0600). */
export async function loadOrCreateBootstrapPassword(file: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST")
      throw new AuthError(`cannot create ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const pw = (await readFile(file, "utf8")).trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(pw))
    throw new AuthError(`${file} must hold a password of at least 16 characters [A-Za-z0-9_-]`);
  return pw;
}

/** Writes a file atomically (temp + rename), mode 0600. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** Options of startNatsAuthSync. */
export interface NatsAuthSyncOptions {
  readonly store: KeyStore;
  /** Called for each accepted id (the service creates its JOBS consumer here). */
  readonly onAccepted?: (id: string) => Promise<void>;
  /** Called with the config after every change of the accepted keys (write it, reload the server). */
  readonly onConfig?: (config: string) => Promise<void>;
  readonly input: Omit<NatsAuthInput, "agents">;
  readonly log?: Logger;
}

/** A running sync. */
export interface NatsAuthSync {
  /** The config as of now. */
  current(): string;
  /** Resolves when every change seen so far was handed to onConfig. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Follows the accepted keys; hands each new config to onConfig (serialised), and each accepted id to onAccepted. */
export async function startNatsAuthSync(o: NatsAuthSyncOptions): Promise<NatsAuthSync> {
  const log = (o.log ?? silentLogger).child({ component: "nats-auth" });
  const agents = new Map<string, string>();
  const render = () => natsAuthConfig({ ...o.input, agents: [...agents].map(([id, pub]) => ({ id, pub })) });
  let chain: Promise<void> = Promise.resolve();
  let dirty = false;
  const schedule = () => {
    if (dirty) return;
    dirty = true;
    chain = chain.then(async () => {
      dirty = false;
      try {
        await o.onConfig?.(render());
      } catch (err) {
        log.error({ err: errorMessage(err) }, "NATS auth config not applied");
      }
    });
  };
  // Setting up an accepted agent (its JOBS durable) can fail while the server is busy (a reload of
  // the generated auth, a JetStream leader election: "jetstream is not enabled"): it is retried in
  // the background with backoff for a minute, so one failure never leaves an agent without jobs.
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const setUp = async (id: string) => {
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await o.onAccepted?.(id);
        if (attempt > 0) log.info({ id, attempts: attempt + 1 }, "accepted agent set up after retries");
        return;
      } catch (err) {
        if (stopped || Date.now() > deadline) {
          log.error({ id, err: errorMessage(err) }, "accepted agent not set up");
          return;
        }
        if (attempt === 0) log.warn({ id, err: errorMessage(err) }, "accepted agent not set up yet; retrying");
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  };
  const accepted = (id: string) => {
    const p = setUp(id).finally(() => pending.delete(p));
    pending.add(p);
    return p;
  };
  const watch = await o.store.watch({ filter: "accepted.>" });
  const loop = (async () => {
    try {
      for await (const c of watch) {
        const k = parseKeyKey(c.key);
        if (!k) continue;
        if (c.op === "put" && c.value) {
          const changed = agents.get(k.id) !== c.value.pub;
          agents.set(k.id, c.value.pub);
          // the user first, so the agent can connect by the time its consumer exists
          if (changed) schedule();
          await chain;
          void accepted(k.id);
        } else if (agents.delete(k.id)) schedule();
      }
    } catch (err) {
      log.error({ err: errorMessage(err) }, "accepted-keys watch ended");
    }
  })();
  const initial: string[] = [];
  for (const e of await o.store.entries("accepted.>")) {
    const k = parseKeyKey(e.key);
    if (k && !agents.has(k.id)) {
      agents.set(k.id, e.value.pub);
      initial.push(k.id);
    }
  }
  schedule();
  await chain;
  await Promise.all(initial.map((id) => accepted(id)));
  let stopping: Promise<void> | undefined;
  return {
    current: render,
    settled: () => chain,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        watch.stop();
        await loop;
        await chain;
        await Promise.all([...pending]);
      })();
      return stopping;
    },
  };
}

/** Writes the config for a server we reload ourselves (`reactor up`) or one reloaded by pid file. */
export function configWriter(file: string, reload: () => Promise<void>): (config: string) => Promise<void> {
  let last: string | undefined;
  return async (config) => {
    if (config === last) return;
    // A server already running this file needs no reload (each reload briefly stops JetStream).
    const onDisk = await readFile(file, "utf8").catch(() => undefined);
    last = config;
    if (onDisk === config) return;
    await writeAtomically(file, config);
    await reload();
  };
}
