/**
 * `reactor key list|accept|reject|delete|finger [GLOB]`, like salt-key (DESIGN.md 8). Calls the key
 * service on `reactor.wheel.key`, signing each command with the service key (`--key`, else
 * REACTOR_KEY_FILE, else the service's default seed file) or an admin key listed by the service.
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { cliNatsAuth, createLogger, resolveServers } from "../../apps/index.js";
import { openConnection, type Connection } from "../../bus/index.js";
import { callKeyCommand, DEFAULT_SERVICE_KEY_FILE, loadServiceKey, type KeyListing, type ServiceKey } from "../../keys/index.js";
import { fail, println } from "../common.js";

interface KeyOptions {
  nats?: string;
  json?: boolean;
  yes?: boolean;
  key?: string;
  includeRejected?: boolean;
  includeDenied?: boolean;
  includeAccepted?: boolean;
}

/** Salt's listing order and headings. */
const SECTIONS = [
  ["minions", "Accepted Keys:"],
  ["minions_denied", "Denied Keys:"],
  ["minions_pre", "Unaccepted Keys:"],
  ["minions_rejected", "Rejected Keys:"],
] as const;
/** The `--json` order of `key list`. */
const JSON_ORDER = ["minions", "minions_pre", "minions_rejected", "minions_denied"] as const;

/** Registers `reactor key ...`. */
export function registerKey(program: Command): void {
  const key = program.command("key").description("manage agent keys, like salt-key");
  const common = (c: Command) =>
    c
      .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
      .option("--key <file>", `seed file signing the command (default: REACTOR_KEY_FILE, else ${DEFAULT_SERVICE_KEY_FILE})`)
      .option("--json", "print Salt's return as JSON");
  common(key.command("list").description("list keys by state").argument("[glob]", "only ids matching this glob")).action(run(list));
  common(key.command("finger").description("show key fingerprints").argument("[glob]", "ids matching this glob", "*")).action(run(finger));
  const change = (name: "accept" | "reject" | "delete", what: string) =>
    common(key.command(name).description(what).argument("<glob>", "agent id glob (or comma-separated list)"))
      .option("-y, --yes", "do not ask for confirmation")
      .option("--include-rejected", "accept: also rejected keys")
      .option("--include-denied", "accept, reject: also denied keys")
      .option("--include-accepted", "reject: also accepted keys")
      .action(run((glob: string | undefined, opts: KeyOptions, conn: Connection, signer: ServiceKey) => changeKeys(name, glob!, opts, conn, signer)));
  change("accept", "accept pending keys");
  change("reject", "reject pending keys");
  change("delete", "delete keys (the agent's mine and presence data are purged)");
}

type Handler = (glob: string | undefined, opts: KeyOptions, conn: Connection, signer: ServiceKey) => Promise<void>;

function run(handler: Handler) {
  return async (glob: string | undefined, opts: KeyOptions) => {
    try {
      const signer = await loadServiceKey(opts.key ?? process.env.REACTOR_KEY_FILE ?? DEFAULT_SERVICE_KEY_FILE);
      const conn = await openConnection({
        servers: resolveServers(opts.nats),
        name: "reactor key",
        log: createLogger({ base: { app: "reactor-cli" }, level: "warn" }),
        timeoutMs: 5000,
        jetStreamWaitMs: 5000,
        ...(await cliNatsAuth()),
      });
      try {
        await handler(glob, opts, conn, signer);
      } finally {
        await conn.close();
      }
    } catch (err) {
      fail(err);
    }
  };
}

async function listing(conn: Connection, signer: ServiceKey, glob: string | undefined): Promise<KeyListing> {
  const r = glob === undefined ? await callKeyCommand(conn, "key.list_all", {}, signer) : await callKeyCommand(conn, "key.name_match", { match: glob }, signer);
  const got = r.return as KeyListing;
  return Object.fromEntries(JSON_ORDER.map((s) => [s, got[s] ?? []]));
}

async function list(glob: string | undefined, opts: KeyOptions, conn: Connection, signer: ServiceKey): Promise<void> {
  const keys = await listing(conn, signer, glob);
  if (opts.json) return println(JSON.stringify(keys));
  for (const [status, heading] of SECTIONS) {
    println(heading);
    for (const id of keys[status] ?? []) println(id);
  }
}

async function finger(glob: string | undefined, opts: KeyOptions, conn: Connection, signer: ServiceKey): Promise<void> {
  const r = (await callKeyCommand(conn, "key.finger", { match: glob ?? "*" }, signer)).return as Record<string, Record<string, string>>;
  if (opts.json) return println(JSON.stringify(r));
  for (const [status, heading] of SECTIONS) {
    if (!r[status]) continue;
    println(heading);
    for (const [id, fp] of Object.entries(r[status])) println(`${id}:  ${fp}`);
  }
}

const SOURCES = { accept: ["minions_pre"], reject: ["minions_pre"], delete: ["minions", "minions_pre", "minions_rejected", "minions_denied"] } as const;
const PAST = { accept: "accepted", reject: "rejected", delete: "deleted" } as const;

async function changeKeys(name: "accept" | "reject" | "delete", glob: string, opts: KeyOptions, conn: Connection, signer: ServiceKey): Promise<void> {
  const kwarg: Record<string, unknown> = { match: glob };
  const sources: string[] = [...SOURCES[name]];
  const include = (flag: boolean | undefined, kw: string, status: string) => {
    if (!flag) return;
    kwarg[kw] = true;
    sources.push(status);
  };
  include(name === "accept" && opts.includeRejected, "include_rejected", "minions_rejected");
  include(name !== "delete" && opts.includeDenied, "include_denied", "minions_denied");
  include(name === "reject" && opts.includeAccepted, "include_accepted", "minions");
  const before = await listing(conn, signer, glob);
  const ids = [...new Set(sources.flatMap((s) => before[s] ?? []))];
  if (ids.length > 0 && !opts.yes) await confirm(name, ids);
  const r = await callKeyCommand(conn, `key.${name}`, kwarg, signer);
  if (opts.json) println(JSON.stringify(r.return));
  else if (r.success) for (const id of ids) println(`Key for minion ${id} ${PAST[name]}.`);
  if (!r.success) {
    process.stderr.write(`${r.comment ?? "nothing matched"}\n`);
    process.exitCode = 1;
  }
}

async function confirm(name: string, ids: readonly string[]): Promise<void> {
  if (!process.stdin.isTTY) throw new Error(`refusing to ${name} ${ids.length} key(s) without confirmation: add -y`);
  println(`The following keys are going to be ${PAST[name as "accept"]}:`);
  for (const id of ids) println(id);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question("Proceed? [n/Y] ")).trim().toLowerCase();
    if (answer !== "" && answer !== "y" && answer !== "yes") throw new Error("aborted");
  } finally {
    rl.close();
  }
}
