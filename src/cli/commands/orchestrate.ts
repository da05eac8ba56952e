/**
 * `reactor orchestrate FILE [--pillar JSON] [--dry-run] [--json]` and `reactor orchestrate status JID`
 * (DESIGN.md 7, 8). The ports come from the composition root through `deps.openPorts`; a dry run
 * whose targets are all lists needs no NATS. Exit code: the run's retcode (1 for errors).
 */
import type { Command } from "commander";
import { OrchestrationError, errorMessage } from "../../core/errors.js";
import {
  MemoryRunStore,
  compileOrchestration,
  formatOrchestration,
  runCompiled,
  type CompiledOrchestration,
  type MineHelper,
  type OrchestrationRequest,
  type OrchestratePorts,
  type RunSummary,
} from "../../orchestrate/index.js";

/** Opened ports and how to release them. */
export interface OpenedPorts {
  readonly ports: OrchestratePorts;
  /** The template's `mine` helper over the live mine (absent offline). */
  readonly mine?: MineHelper;
  close(): Promise<void>;
}

/** What the command needs from the composition root. */
export interface OrchestrateDeps {
  openPorts(opts: { nats?: string }): Promise<OpenedPorts>;
  readonly out?: (s: string) => void;
  readonly err?: (s: string) => void;
  /** Colours in human output (default: stdout is a TTY). */
  readonly color?: boolean;
  /** Progress lines as steps start and end (default: stderr is a TTY). Never with --json. */
  readonly progress?: (line: string) => void;
}

/** Options of `reactor orchestrate FILE`. */
export interface OrchestrateOptions {
  pillar?: string;
  dryRun?: boolean;
  json?: boolean;
  nats?: string;
}

/** Registers `reactor orchestrate` and `reactor orchestrate status`. */
export function registerOrchestrate(program: Command, deps: OrchestrateDeps): void {
  const cmd = program
    .command("orchestrate")
    .description("run an orchestration SLS (Salt's state.orchestrate)")
    .argument("<file>", "the orchestration SLS file")
    .option("--pillar <json>", "pillar data as a JSON object")
    .option("--dry-run", "show the order of steps and their targets; run nothing (Salt's test=True)")
    .option("--json", "print one JSON object")
    .option("--nats <url>", "NATS server URL")
    .action(async (file: string, opts: OrchestrateOptions) => {
      process.exitCode = await runOrchestrateCommand(file, opts, deps);
    });
  cmd
    .command("status")
    .description("show a recorded orchestration run")
    .argument("<jid>", "the run's job id")
    .option("--json", "print one JSON object")
    .option("--nats <url>", "NATS server URL")
    .action(async (jid: string, opts: { json?: boolean; nats?: string }, command: Command) => {
      // `orchestrate` has --json and --nats too; commander gives them to it when they follow `status JID`.
      const parent = command.parent?.opts<{ json?: boolean; nats?: string }>() ?? {};
      const json = opts.json ?? parent.json;
      const nats = opts.nats ?? parent.nats;
      process.exitCode = await orchestrateStatus(jid, { ...(json ? { json } : {}), ...(nats ? { nats } : {}) }, deps);
    });
}

/** Runs `reactor orchestrate FILE`; returns the exit code. */
export async function runOrchestrateCommand(file: string, opts: OrchestrateOptions, deps: OrchestrateDeps): Promise<number> {
  const { out, err } = io(deps);
  let compiled: CompiledOrchestration | undefined;
  let pillar: Record<string, unknown>;
  // A dry run runs without NATS when nothing needs it: no mine lookup, only list targets.
  try {
    pillar = parsePillar(opts.pillar);
    let usedMine = false;
    const offlineMine = () => {
      usedMine = true;
      return {};
    };
    try {
      compiled = await compileOrchestration({ file, pillar, dryRun: opts.dryRun === true, mine: offlineMine });
    } catch (e) {
      if (!usedMine) throw e; // else: it may only fail on the empty mine; compiled again below
    }
    if (usedMine || opts.dryRun !== true || opts.nats !== undefined || (compiled && !needsNoNats(compiled))) compiled = undefined;
  } catch (e) {
    err(`reactor orchestrate: ${errorMessage(e)}`);
    return 1;
  }
  let opened: OpenedPorts | undefined;
  try {
    opened = compiled ? offlinePorts() : await deps.openPorts(opts.nats !== undefined ? { nats: opts.nats } : {});
    compiled ??= await compileOrchestration({ file, pillar, dryRun: opts.dryRun === true, ...(opened.mine ? { mine: opened.mine } : {}) });
    const progress = opts.json ? undefined : (deps.progress ?? (process.stderr.isTTY ? (l: string) => process.stderr.write(`${l}\n`) : undefined));
    const total = compiled.plan.chunks.length;
    let done = 0;
    const onStep: OrchestrationRequest["onStep"] = progress
      ? (e) => {
          if (e.phase === "start") progress(`[${done + 1}/${total}] ${e.id} (${e.fun}) ...`);
          else {
            done++;
            const verdict = e.outcome?.result === true ? "ok" : e.outcome?.result === false ? "FAILED" : "not run";
            progress(`[${done}/${total}] ${e.id}: ${verdict} in ${e.ms} ms`);
          }
        }
      : undefined;
    const result = await runCompiled(compiled, { file, pillar, dryRun: opts.dryRun === true, user: "cli", ...(onStep ? { onStep } : {}) }, opened.ports);
    out(opts.json ? JSON.stringify(result) : formatOrchestration(result, { color: deps.color ?? process.stdout.isTTY }));
    return result.retcode;
  } catch (e) {
    err(`reactor orchestrate: ${errorMessage(e)}`);
    return 1;
  } finally {
    await opened?.close();
  }
}

/** Runs `reactor orchestrate status JID`; returns the exit code (1 when the run is unknown). */
export async function orchestrateStatus(jid: string, opts: { json?: boolean; nats?: string }, deps: OrchestrateDeps): Promise<number> {
  const { out, err } = io(deps);
  let opened: OpenedPorts | undefined;
  try {
    opened = await deps.openPorts(opts.nats !== undefined ? { nats: opts.nats } : {});
    const run = await opened.ports.runs.get(jid);
    if (!run) throw new OrchestrationError(`no orchestration run with jid ${jid}`);
    out(opts.json ? JSON.stringify(run) : formatSummary(run, deps.color ?? process.stdout.isTTY));
    return 0;
  } catch (e) {
    err(`reactor orchestrate status: ${errorMessage(e)}`);
    return 1;
  } finally {
    await opened?.close();
  }
}

function formatSummary(run: RunSummary, color: boolean): string {
  const head = `jid ${run.jid}: ${run.sls} (${run.file})${run.dryRun ? " dry run" : ""}, retcode ${run.retcode}, ${new Date(run.startedAt).toISOString()}`;
  return `${head}\n${formatOrchestration({ data: { reactor_master: run.results }, not_run: run.notRun }, { color })}`;
}

/** True when every salt.function step targets a list of ids (a dry run can resolve them itself). */
export function needsNoNats(compiled: CompiledOrchestration): boolean {
  return compiled.plan.chunks.every(({ chunk }) => chunk.payload.kind !== "function" || chunk.payload.tgtType === "list");
}

/** Ports for a dry run without NATS: anything that would reach an agent or the bus throws. */
function offlinePorts(): OpenedPorts {
  const offline = (what: string) => () => Promise.reject(new OrchestrationError(`${what} needs a NATS connection (give --nats)`));
  const ports: OrchestratePorts = {
    resolveTargets: offline("resolving targets"),
    runFunction: offline("running a function"),
    runWheel: offline("a wheel call"),
    runRunner: offline("a runner call"),
    waitForEvent: offline("waiting for events"),
    emit: () => Promise.resolve(),
    now: () => Date.now(),
    runs: new MemoryRunStore(),
  };
  return { ports, close: () => Promise.resolve() };
}

function parsePillar(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OrchestrationError(`--pillar is not valid JSON: ${errorMessage(e)}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new OrchestrationError("--pillar must be a JSON object");
  return v as Record<string, unknown>;
}

function io(deps: OrchestrateDeps): { out: (s: string) => void; err: (s: string) => void } {
  return {
    out: deps.out ?? ((s) => process.stdout.write(s + "\n")),
    err: deps.err ?? ((s) => process.stderr.write(s + "\n")),
  };
}
