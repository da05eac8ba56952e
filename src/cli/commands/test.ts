/**
 * `reactor test TAG [DATA|@event.json] -c reactor.yaml [--json] [--explain] [--spec FILE]`: a dry
 * run of the reactor map (DESIGN.md 8); `reactor test --replay 2h [--filter GLOB]`: the same map
 * over the stored history, next to what the service fired. Exit codes: 0 ok, 1 expectations
 * failed, 2 config, render or bus errors.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ConfigError, ConfigErrors, TemplateError, errorMessage } from "../../core/errors.js";
import { loadServiceConfig, parseYaml, type ServiceConfig } from "../../config/index.js";
import { MapIndex, dryRun, type DryRunResult } from "../../reactor/index.js";
import { compileTagGlob } from "../../core/glob/index.js";
import { createLogger, formatReplayLine, formatReplaySummary, openClient, replayHistory, resolveServers, type Client } from "../../apps/index.js";
import { parseSince } from "../common.js";

/** Exit codes of `reactor test`. */
export const TestExit = { Ok: 0, ExpectationFailed: 1, Errors: 2 } as const;

interface TestOptions {
  config: string;
  json?: boolean;
  explain?: boolean;
  spec?: string;
  /** `--replay DURATION` / `--since TIME`: backtest the map on the stored history. */
  replay?: string;
  since?: string;
  /** Tag glob of the events to replay. */
  filter?: string;
  nats?: string;
}

/** One case of a spec file. */
interface SpecCase {
  readonly tag: string;
  readonly data: Record<string, unknown>;
  readonly expect: { readonly none: true } | { readonly reactions: readonly Record<string, unknown>[] };
}

/** Registers `reactor test`. */
export function registerTest(program: Command): void {
  program
    .command("test")
    .description("dry-run an event against the reactor map: matched entries, rendered reactions, errors")
    .argument("[tag]", "the event tag")
    .argument("[data]", "event data: JSON text or @file.json")
    .option("-c, --config <file>", "the service configuration", "reactor.yaml")
    .option("--json", "print one JSON object")
    .option("--explain", "also say why the other entries did not match")
    .option("--spec <file>", "a YAML list of cases {tag, data, expect} to check")
    .option("--replay <duration>", "backtest: run the map over the events stored in the last DURATION (2h, 30m, 1d) and compare with what the service fired")
    .option("--since <time>", "backtest from an ISO time (or a duration back from now), like --replay")
    .option("--filter <glob>", "with --replay: only events whose tag matches this glob")
    .option("--nats <url>", "with --replay: NATS server URL (default: NATS_URL, else the config file)")
    .action(async (tag: string | undefined, data: string | undefined, opts: TestOptions) => {
      process.exitCode = await runTest(tag, data, opts);
    });
}

/** One problem of a `--json` outcome: file and line when known. */
export interface TestProblem {
  readonly file: string | null;
  readonly line: number | null;
  readonly message: string;
}

/** The problems an error stands for: each ConfigError of a ConfigErrors, with file and line. */
export function problemsOf(err: unknown): TestProblem[] {
  const list = err instanceof ConfigErrors ? err.errors : [err];
  return list.map((e) =>
    e instanceof ConfigError || e instanceof TemplateError
      ? { file: e.location.file, line: e.location.line ?? null, message: e.location.path ? `${e.location.path} ${e.reason}` : e.reason }
      : { file: null, line: null, message: errorMessage(e) },
  );
}

/** Runs `reactor test`; returns the exit code. With `--json` every outcome is one JSON object. */
export async function runTest(tag: string | undefined, data: string | undefined, opts: TestOptions, out: (s: string) => void = print): Promise<number> {
  const failWith = (stage: "config" | "usage" | "data" | "bus", err: unknown): number => {
    const problems = problemsOf(err);
    out(opts.json ? JSON.stringify({ ok: false, stage, errors: problems }) : problems.map(formatProblem).join("\n"));
    return TestExit.Errors;
  };
  let config: ServiceConfig;
  try {
    // As Salt: a missing SLS file is an error of the events that need it, not of the whole map.
    config = await loadServiceConfig(opts.config, { missingSls: "defer" });
  } catch (err) {
    return failWith("config", err);
  }
  const from = opts.replay ?? opts.since;
  if (from !== undefined) return runReplay(config, from, opts, out, failWith);
  const index = new MapIndex(config.reactor);
  if (opts.spec !== undefined) return runSpec(opts.spec, config, index, out, opts.json === true);
  if (tag === undefined) return failWith("usage", new Error("reactor test: give a TAG (or --spec FILE, or --replay DURATION)"));
  let eventData: Record<string, unknown>;
  try {
    eventData = parseData(data);
  } catch (err) {
    return failWith("data", new Error(`reactor test: ${errorMessage(err)}`));
  }
  const result = dryRun(config, { tag, data: eventData }, { index, explain: opts.explain === true });
  out(opts.json ? JSON.stringify(result) : formatResult(result));
  return result.errors.length > 0 ? TestExit.Errors : TestExit.Ok;
}

/** `--replay`/`--since`: the backtest (read-only: apps/replay.ts). Exit 0, or 2 on errors. */
async function runReplay(config: ServiceConfig, from: string, opts: TestOptions, out: (s: string) => void, failWith: (stage: "usage" | "bus", err: unknown) => number): Promise<number> {
  let since: Date;
  let filter: ((tag: string) => boolean) | undefined;
  try {
    since = parseSince(from);
    if (opts.filter !== undefined) {
      const glob = compileTagGlob(opts.filter, "fnmatch");
      filter = (tag) => glob.test(tag);
    }
  } catch (err) {
    return failWith("usage", err);
  }
  let client: Client;
  try {
    client = await openClient({ servers: resolveServers(opts.nats, config.nats.servers), name: "reactor test --replay", log: createLogger({ level: "warn" }), ensureStream: false });
  } catch (err) {
    return failWith("bus", err);
  }
  try {
    const summary = await replayHistory(client, config, {
      since,
      ...(filter ? { filter } : {}),
      onEvent: (line) => out(opts.json ? JSON.stringify(line) : formatReplayLine(line)),
    });
    out(opts.json ? JSON.stringify({ summary }) : formatReplaySummary(summary));
    return TestExit.Ok;
  } catch (err) {
    return failWith("bus", err);
  } finally {
    await client.close();
  }
}

function formatProblem(p: TestProblem): string {
  return p.file === null ? p.message : `${p.file}${p.line === null ? "" : `:${p.line}`}: ${p.message}`;
}

/** Event data from the command line: JSON text, or `@file` holding JSON. */
export function parseData(arg: string | undefined): Record<string, unknown> {
  if (arg === undefined || arg === "") return {};
  const text = arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`event data is not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("event data must be a JSON object");
  return v as Record<string, unknown>;
}

/** The human form of a dry run. */
export function formatResult(r: DryRunResult): string {
  const lines = [`tag: ${r.tag}`];
  lines.push(r.matches.length ? "matched:" : "matched: none");
  for (const m of r.matches) lines.push(`  ${m.glob} -> ${m.sls.join(", ")}`);
  lines.push(r.reactions.length ? "reactions:" : "reactions: none");
  for (const x of r.reactions) {
    const target = x.tgt === null ? "" : ` tgt=${JSON.stringify(x.tgt)} (${x.tgt_type})`;
    lines.push(`  ${x.id}: ${x.client}.${x.fun}${target} arg=${JSON.stringify(x.arg)} kwarg=${JSON.stringify(x.kwarg)}  [${x.file}]`);
  }
  if (r.errors.length) lines.push("errors:");
  for (const e of r.errors) lines.push(`  ${e.file}${e.line === null ? "" : `:${e.line}`}: ${e.message}`);
  if (r.explain) {
    if (r.explain.not_matched.length) lines.push("not matched:");
    for (const n of r.explain.not_matched) lines.push(`  ${n.name === n.glob ? n.glob : `${n.name} (${n.glob})`}: ${n.detail}`);
    for (const w of r.explain.warnings) lines.push(`warning: ${w.file}: ${w.message}`);
    for (const t of r.explain.rendered) {
      if ("error" in t) lines.push(`rendered ${t.file}: ${t.error}`);
      else if (!t.text.trim()) lines.push(`rendered ${t.file}: (empty: no reaction)`);
      else lines.push(`rendered ${t.file}:`, ...t.text.replace(/\n+$/, "").split("\n").map((l) => `  | ${l}`));
    }
  }
  return lines.join("\n");
}

function runSpec(file: string, config: ServiceConfig, index: MapIndex<ServiceConfig["reactor"][number]>, out: (s: string) => void, json: boolean): number {
  let cases: SpecCase[];
  try {
    cases = readSpec(file);
  } catch (err) {
    const problems = problemsOf(err);
    out(json ? JSON.stringify({ ok: false, stage: "spec", errors: problems }) : problems.map(formatProblem).join("\n"));
    return TestExit.Errors;
  }
  const results = cases.map((c, i) => {
    const r = dryRun(config, { tag: c.tag, data: c.data }, { index });
    const problem = r.errors.length ? `errors: ${r.errors.map((e) => `${e.file}: ${e.message}`).join("; ")}` : checkCase(c, r);
    return { case: i + 1, tag: c.tag, ok: problem === undefined, errors: r.errors, ...(problem ? { problem } : {}) };
  });
  const errors = results.filter((r) => r.errors.length > 0).length;
  const failed = results.filter((r) => !r.ok).length - errors;
  const passed = cases.length - failed - errors;
  if (json) out(JSON.stringify({ ok: failed + errors === 0, cases: results, passed, failed, with_errors: errors }));
  else {
    for (const r of results) out(`${r.ok ? "ok  " : "FAIL"} ${r.case} ${r.tag}${r.problem ? `: ${r.problem}` : ""}`);
    out(`${passed} passed, ${failed} failed, ${errors} with errors`);
  }
  return errors ? TestExit.Errors : failed ? TestExit.ExpectationFailed : TestExit.Ok;
}

/** Why a case fails, or undefined when it passes. Reactions are compared in order, on the keys given. */
export function checkCase(c: SpecCase, r: DryRunResult): string | undefined {
  if ("none" in c.expect) return r.reactions.length ? `expected no reaction, got ${r.reactions.map((x) => x.id).join(", ")}` : undefined;
  const want = c.expect.reactions;
  if (want.length !== r.reactions.length) return `expected ${want.length} reaction(s), got ${r.reactions.length}`;
  for (let i = 0; i < want.length; i++) {
    const got = r.reactions[i] as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want[i]!)) {
      if (JSON.stringify(got[k]) !== JSON.stringify(v)) return `reaction ${i + 1} ${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(got[k])}`;
    }
  }
  return undefined;
}

function readSpec(file: string): SpecCase[] {
  const src = parseYaml(readFileSync(file, "utf8"), file);
  if (!Array.isArray(src.value)) throw src.error([], "must be a list of cases {tag, data, expect}");
  return src.value.map((raw: unknown, i) => {
    const c = (raw ?? {}) as Record<string, unknown>;
    const expect = c["expect"] as Record<string, unknown> | undefined;
    if (typeof c["tag"] !== "string") throw src.error([i, "tag"], "must be a string");
    if (!expect || (expect["none"] !== true && !Array.isArray(expect["reactions"]))) {
      throw src.error([i, "expect"], "must be {none: true} or {reactions: [...]}");
    }
    const data = c["data"] ?? {};
    if (typeof data !== "object" || Array.isArray(data)) throw src.error([i, "data"], "must be a map");
    return { tag: c["tag"], data: data as Record<string, unknown>, expect: expect as SpecCase["expect"] };
  });
}

function print(s: string): void {
  process.stdout.write(`${s}\n`);
}
