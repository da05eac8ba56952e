/**
 * `reactor mine get TGT FUN [--tgt-type T] [--json] [--stale] [--max-age 10m]` and
 * `reactor mine watch TGT FUN [--tgt-type T] [--json]` (DESIGN.md 6, 8). FUN may be a
 * comma-separated list (`{fun: {minion: value}}`). The CLI reads as an operator: no ACL applies
 * unless `--as ID` names the agent whose view to show (then values it may not read are left out,
 * and the output says so).
 */
import type { Command } from "commander";
import { cliNatsAuth, createLogger, resolveServers } from "../../apps/index.js";
import { openConnection, type Connection } from "../../bus/index.js";
import { TARGET_TYPES, type TargetType } from "../../core/index.js";
import { createMineReader, openMineStore, openMinionsStore, type MineReader, type MineResult } from "../../mine/index.js";
import { fail, parseSince, println, untilSignal } from "../common.js";

interface MineOptions {
  tgtType: string;
  json?: boolean;
  stale?: boolean;
  nats?: string;
  maxAge?: string;
  as?: string;
}

/** Registers `reactor mine get|watch`. */
export function registerMine(program: Command): void {
  const mine = program.command("mine").description("read the mine (data agents publish for each other)");
  const common = (c: Command) =>
    c
      .option("--tgt-type <type>", `target type: ${TARGET_TYPES.join(", ")}`, "glob")
      .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
      .option("--json", "print JSON");
  common(mine.command("get").description("mine.get: the latest value of FUN on the agents TGT selects"))
    .argument("<tgt>", "target expression, e.g. 'web*' or 'G@roles:web and not db*'")
    .argument("<fun>", "function name, or a comma-separated list")
    .option("--stale", "include values older than the maximum age, marked stale")
    .option("--max-age <duration>", "maximum age (10m, 1h); default 3 x each agent's mine interval")
    .option("--as <id>", "read as this agent (apply the mine ACLs)")
    .action(async (tgt: string, fun: string, opts: MineOptions) => {
      try {
        process.exitCode = await mineGet(tgt, fun, opts);
      } catch (err) {
        fail(err);
      }
    });
  common(mine.command("watch").description("follow changes of FUN on the agents TGT selects"))
    .argument("<tgt>", "target expression")
    .argument("<fun>", "function name")
    .action(async (tgt: string, fun: string, opts: MineOptions) => {
      try {
        await mineWatch(tgt, fun, opts);
      } catch (err) {
        fail(err);
      }
    });
}

async function withReader<T>(opts: MineOptions, name: string, fn: (r: MineReader) => Promise<T>): Promise<T> {
  const log = createLogger({ base: { app: "reactor-cli" }, level: "warn" });
  const conn: Connection = await openConnection({ servers: resolveServers(opts.nats), name, log, timeoutMs: 5000, jetStreamWaitMs: 5000, ...(await cliNatsAuth()) });
  try {
    const [mine, minions] = await Promise.all([openMineStore(conn), openMinionsStore(conn)]);
    return await fn(createMineReader({ mine, minions, log }));
  } finally {
    await conn.close();
  }
}

function tgtTypeOf(opts: MineOptions): TargetType {
  if (!(TARGET_TYPES as readonly string[]).includes(opts.tgtType)) {
    throw new Error(`--tgt-type must be one of ${TARGET_TYPES.join(", ")} (got ${JSON.stringify(opts.tgtType)})`);
  }
  return opts.tgtType as TargetType;
}

/** Runs `reactor mine get`; returns the exit code (0, or 1 when nothing matched). */
export async function mineGet(tgt: string, funArg: string, opts: MineOptions, out: (s: string) => void = println): Promise<number> {
  const tgtType = tgtTypeOf(opts);
  const fun = funArg.includes(",") ? funArg.split(",").map((s) => s.trim()) : funArg;
  const maxAgeMs = opts.maxAge === undefined ? undefined : Date.now() - parseSince(opts.maxAge).getTime();
  const result = await withReader(opts, "reactor mine get", (r) =>
    r.query(tgt, fun, tgtType, {
      includeStale: opts.stale === true,
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
      ...(opts.as !== undefined ? { requester: opts.as } : {}),
    }),
  );
  if (opts.json) out(JSON.stringify({ ...result.values, ...(result.omitted.length ? { _omitted: result.omitted } : {}) }));
  else out(formatResult(result, typeof fun === "string" ? undefined : fun));
  return countValues(result, typeof fun !== "string") > 0 ? 0 : 1;
}

/** Human output: a table `minion  [function]  value`, then what was left out. */
export function formatResult(result: MineResult, funs: readonly string[] | undefined): string {
  const rows: string[][] = [];
  const push = (fun: string | undefined, values: Record<string, unknown>) => {
    for (const [minion, v] of Object.entries(values)) rows.push(fun === undefined ? [minion, JSON.stringify(v)] : [minion, fun, JSON.stringify(v)]);
  };
  if (funs === undefined) push(undefined, result.values);
  else for (const f of funs) push(f, (result.values[f] ?? {}) as Record<string, unknown>);
  const head = funs === undefined ? ["MINION", "VALUE"] : ["MINION", "FUNCTION", "VALUE"];
  const lines = rows.length ? table([head, ...rows]) : ["no values"];
  const by = (reason: string) => result.omitted.filter((o) => o.reason === reason).length;
  const stale = by("stale");
  const denied = by("mine_get") + by("allow_tgt");
  if (stale) lines.push(`${stale} stale value(s) left out (older than the maximum age; --stale shows them)`);
  if (denied) lines.push(`${denied} value(s) left out by the mine ACL (mine_get / allow_tgt)`);
  return lines.join("\n");
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}

function countValues(result: MineResult, nested: boolean): number {
  if (!nested) return Object.keys(result.values).length;
  return Object.values(result.values).reduce<number>((n, v) => n + Object.keys(v as object).length, 0);
}

async function mineWatch(tgt: string, fun: string, opts: MineOptions): Promise<void> {
  const tgtType = tgtTypeOf(opts);
  await withReader(opts, "reactor mine watch", async (r) => {
    const w = await r.watch(tgt, fun, tgtType);
    void untilSignal().then(() => w.stop());
    for await (const c of w) {
      if (opts.json) println(JSON.stringify(c));
      else println(c.op === "put" ? `${c.entry?.stamp ?? ""}  ${c.id}  ${fun} = ${JSON.stringify(c.entry?.value)}` : `${c.id}  ${fun} deleted`);
    }
  });
}
