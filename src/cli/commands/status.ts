/**
 * `reactor status [--json] [--nats URL]`: the service replicas (each answers `reactor.status`),
 * the durable consumer's lag, the EVENTS stream, and the agents with their key state and when
 * they were last seen (the `minions` and `keys` buckets; neither is created when missing).
 */
import type { Command } from "commander";
import { cliNatsAuth, createLogger, resolveServers } from "../../apps/index.js";
import { kvKeyParts, openConnection, openKv, type Connection } from "../../bus/index.js";
import { errorMessage } from "../../core/index.js";
import { collectStatus, type ReplicaStatus } from "../../netapi/index.js";
import { fail, println } from "../common.js";

interface StatusOptions {
  json?: boolean;
  nats?: string;
  stream: string;
  durable: string;
  wait: string;
}

/** Everything `reactor status` reports (the `--json` shape). */
export interface StatusReport {
  readonly nats: { readonly servers: readonly string[]; readonly server_version: string };
  readonly stream: {
    readonly name: string;
    readonly messages: number;
    readonly bytes: number;
    readonly last_seq: number;
  } | null;
  readonly consumer: {
    readonly durable: string;
    readonly pending: number;
    readonly ack_pending: number;
    readonly lag: number;
    readonly redelivered: number;
    readonly waiting: number;
  } | null;
  readonly replicas: readonly ReplicaStatus[];
  readonly agents: readonly AgentStatus[];
}

/** One agent as the buckets know it. */
export interface AgentStatus {
  readonly id: string;
  /** From the keys bucket when it exists, else the minion record (absent there = accepted); `unknown` otherwise. */
  readonly key_state: string;
  /** ISO time, or null when the agent never wrote a minion record. */
  readonly last_seen: string | null;
}

/** Registers `reactor status`. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("service replicas, consumer lag and agents")
    .option("--json", "print one JSON object")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
    .option("--stream <name>", "events stream", "EVENTS")
    .option("--durable <name>", "the service's durable consumer", "reactor")
    .option("--wait <ms>", "how long to wait for replicas to answer", "1000")
    .action(async (opts: StatusOptions) => {
      try {
        process.exitCode = await runStatus(opts);
      } catch (err) {
        fail(err);
      }
    });
}

/** Runs `reactor status`; returns the exit code (0; 3 when no service replica answered). */
export async function runStatus(opts: StatusOptions, out: (s: string) => void = println): Promise<number> {
  const servers = resolveServers(opts.nats);
  const log = createLogger({ base: { app: "reactor-cli" }, level: "warn" });
  const conn = await openConnection({
    servers,
    name: "reactor status",
    log,
    timeoutMs: 5000,
    jetStreamWaitMs: 5000,
    ...(await cliNatsAuth()),
  });
  try {
    const report = await collectReport(conn, servers, opts);
    if (opts.json) out(JSON.stringify(report));
    else printReport(report, out);
    return report.replicas.length > 0 ? 0 : 3;
  } finally {
    await conn.close();
  }
}

/** Gathers the report. */
export async function collectReport(
  conn: Connection,
  servers: readonly string[],
  opts: Pick<StatusOptions, "stream" | "durable" | "wait">,
): Promise<StatusReport> {
  const waitMs = Number(opts.wait);
  if (!Number.isInteger(waitMs) || waitMs <= 0)
    throw new Error(`--wait must be a positive number of milliseconds, got ${JSON.stringify(opts.wait)}`);
  const [stream, consumer, replicas, agents] = await Promise.all([
    conn.jsm.streams.info(opts.stream).then(
      (i) => ({
        name: opts.stream,
        messages: i.state.messages,
        bytes: i.state.bytes,
        last_seq: i.state.last_seq,
      }),
      () => null,
    ),
    conn.jsm.consumers.info(opts.stream, opts.durable).then(
      (c) => ({
        durable: opts.durable,
        pending: c.num_pending,
        ack_pending: c.num_ack_pending,
        lag: c.num_pending + c.num_ack_pending,
        redelivered: c.num_redelivered,
        waiting: c.num_waiting,
      }),
      () => null,
    ),
    collectStatus(conn, waitMs),
    readAgents(conn),
  ]);
  return { nats: { servers, server_version: conn.serverVersion }, stream, consumer, replicas, agents };
}

const STATE_ORDER = ["accepted", "pending", "rejected", "denied"];

async function readAgents(conn: Connection): Promise<AgentStatus[]> {
  const agents = new Map<string, { key_state?: string; last_seen: string | null }>();
  for (const e of await bucketEntries<{ id?: string; last_seen?: string; key_state?: string }>(
    conn,
    "minions",
  )) {
    const id = e.value.id ?? kvKeyParts(e.key)[0] ?? e.key;
    agents.set(id, { key_state: e.value.key_state ?? "accepted", last_seen: e.value.last_seen ?? null });
  }
  const keyStates = new Map<string, string>();
  for (const e of await bucketEntries<{ id?: string; state?: string }>(conn, "keys")) {
    const [state, id] = kvKeyParts(e.key);
    if (state === undefined || id === undefined || !STATE_ORDER.includes(state)) continue;
    const prev = keyStates.get(id);
    if (prev === undefined || STATE_ORDER.indexOf(state) < STATE_ORDER.indexOf(prev))
      keyStates.set(id, state);
  }
  for (const [id, state] of keyStates)
    agents.set(id, { last_seen: agents.get(id)?.last_seen ?? null, key_state: state });
  return [...agents.entries()]
    .map(([id, a]) => ({ id, key_state: a.key_state ?? "unknown", last_seen: a.last_seen }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The entries of a bucket, or none when the bucket does not exist (it is not created). */
async function bucketEntries<T>(conn: Connection, bucket: string): Promise<{ key: string; value: T }[]> {
  try {
    await conn.jsm.streams.info(`KV_${bucket}`);
  } catch (err) {
    if (/not found/i.test(errorMessage(err))) return [];
    throw err;
  }
  const kv = await openKv<T>(conn, { bucket });
  return kv.entries();
}

function printReport(r: StatusReport, out: (s: string) => void): void {
  out(`NATS ${r.nats.servers.join(", ")} (server ${r.nats.server_version})`);
  out(
    r.stream
      ? `stream ${r.stream.name}: ${r.stream.messages} events, ${r.stream.bytes} bytes, last seq ${r.stream.last_seq}`
      : "stream: not found",
  );
  out(
    r.consumer
      ? `consumer ${r.consumer.durable}: lag ${r.consumer.lag} (pending ${r.consumer.pending}, ack pending ${r.consumer.ack_pending}, redelivered ${r.consumer.redelivered})`
      : "consumer: not found (has the service ever run?)",
  );
  out("");
  out(`service replicas: ${r.replicas.length}`);
  table(
    out,
    ["INSTANCE", "STARTED", "RECEIVED", "DISPATCHED", "FAILED"],
    r.replicas.map((s) => [
      s.instance,
      s.started,
      String(s.counters["received"] ?? 0),
      String(s.counters["dispatched"] ?? 0),
      String(s.counters["failed"] ?? 0),
    ]),
  );
  out("");
  out(`agents: ${r.agents.length}`);
  table(
    out,
    ["ID", "KEY", "LAST SEEN"],
    r.agents.map((a) => [a.id, a.key_state, a.last_seen ?? "-"]),
  );
}

function table(out: (s: string) => void, head: string[], rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const r of [head, ...rows])
    out(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}
