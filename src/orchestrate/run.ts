/**
 * runOrchestration: Salt's `salt-run state.orchestrate`. Renders the SLS (pillar, opts, saltenv),
 * parses and plans it (errors before anything runs), runs it with the requisite engine, emits
 * `salt/run/<jid>/new|args|ret`, records the run and returns Salt's shape:
 * `{jid, retcode, outputter: "highstate", data: {<master>_master: {<state tag>: result}}}`.
 */
import type { StepOutcome } from "../core/requisites/index.js";
import { readFile } from "node:fs/promises";
import { OrchestrationError, errorMessage } from "../core/errors.js";
import { newJid } from "../core/job.js";
import { executeRun, planRun, type Chunk, type Plan, type StepResult } from "../core/requisites/index.js";
import { compileSls } from "../config/index.js";
import { parseOrchestration } from "./parse.js";
import type { OrchestratePorts, RunSummary } from "./ports.js";
import type { StepSpec } from "./spec.js";
import { stepRunner } from "./steps.js";

/** The template's `mine` helper: `mine(tgt, fun, tgt_type='glob')`, keyword arguments as a last object. */
export type MineHelper = (...args: unknown[]) => unknown;

/** What to run. */
export interface OrchestrationRequest {
  /** The SLS file (also its name in messages). */
  readonly file: string;
  /** Salt's dotted name of the file (`orch.deploy`); default: from `file`. */
  readonly sls?: string;
  /** The file's text; read from `file` when absent. */
  readonly source?: string;
  readonly pillar?: Readonly<Record<string, unknown>>;
  /** Salt's test=True: show the order and targets, run nothing. */
  readonly dryRun?: boolean;
  readonly saltenv?: string;
  /** Run-wide failhard (Salt's `failhard` option). */
  readonly failhard?: boolean;
  /** Names the data key `<masterId>_master` (default `reactor`). */
  readonly masterId?: string;
  /** Who asked (`cli`, `reactor`); in the run events. */
  readonly user?: string;
  readonly jid?: string;
  /** The `mine` helper of the template (also `salt['mine.get']`); without it lookups return {}. */
  readonly mine?: MineHelper;
  /** More template variables. */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
  /** Called as each step starts and ends (progress on a terminal). */
  readonly onStep?: (event: { phase: "start" | "end"; id: string; fun: string; outcome?: StepOutcome; ms?: number }) => void;
}

/** A parsed and planned orchestration. */
export interface CompiledOrchestration {
  readonly file: string;
  readonly sls: string;
  readonly plan: Plan<StepSpec>;
}

/** Salt's return of state.orchestrate, with the steps a failhard stop left out. */
export interface OrchestrationResult {
  readonly jid: string;
  readonly retcode: number;
  readonly outputter: "highstate";
  readonly data: Readonly<Record<string, Readonly<Record<string, StepResult>>>>;
  /** State tags not run because a failhard step failed (Salt leaves them out of `data`). */
  readonly not_run: readonly string[];
}

/** `orch/deploy.sls` -> `orch.deploy` (Salt's SLS name). */
export function slsName(file: string): string {
  const rel = file.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
  const base = rel.startsWith("/") ? rel.slice(rel.lastIndexOf("/") + 1) : rel;
  return base.replace(/\.sls$/, "").replace(/\/init$/, "").split("/").join(".");
}

/** Renders, parses and plans. Throws TemplateError, ConfigErrors, RequisiteError, RequisiteCycleError or OrchestrationError. */
export async function compileOrchestration(req: OrchestrationRequest): Promise<CompiledOrchestration> {
  let source = req.source;
  if (source === undefined) {
    try {
      source = await readFile(req.file, "utf8");
    } catch (err) {
      throw new OrchestrationError(`cannot read ${req.file}: ${errorMessage(err)}`, { cause: err });
    }
  }
  const sls = req.sls ?? slsName(req.file);
  const saltenv = req.saltenv ?? "base";
  const mine = req.mine ?? (() => ({}));
  const context = {
    ...req.context,
    mine,
    salt: { "mine.get": mine },
    pillar: req.pillar ?? {},
    saltenv,
    sls,
    opts: { id: `${req.masterId ?? "reactor"}_master`, test: req.dryRun === true, saltenv, __role: "master" },
  };
  const value = compileSls(source, req.file).render(context);
  const chunks: Chunk<StepSpec>[] = parseOrchestration(value, req.file, sls);
  return { file: req.file, sls, plan: planRun(chunks, { failhard: req.failhard ?? false }) };
}

/** Compiles and runs an orchestration. Compile errors are thrown before anything runs or is emitted. */
export async function runOrchestration(req: OrchestrationRequest, ports: OrchestratePorts): Promise<OrchestrationResult> {
  return runCompiled(await compileOrchestration(req), req, ports);
}

/** Runs an already compiled orchestration. */
export async function runCompiled(compiled: CompiledOrchestration, req: OrchestrationRequest, ports: OrchestratePorts): Promise<OrchestrationResult> {
  const jids = ports.newJid ? () => ports.newJid!() : () => newJid(new Date(ports.now()));
  const jid = req.jid ?? jids();
  const user = req.user ?? "reactor";
  const dryRun = req.dryRun === true;
  const funArgs = [compiled.sls, { pillar: req.pillar ?? {}, ...(dryRun ? { test: true } : {}) }];
  const startedAt = ports.now();
  await ports.emit(`salt/run/${jid}/new`, { fun: "runner.state.orchestrate", fun_args: funArgs, jid, user });
  await ports.emit(`salt/run/${jid}/args`, { type: "runner", name: "state.orchestrate", args: funArgs, jid });
  const run = stepRunner(ports, jids);
  const onStep = req.onStep;
  const runStep: typeof run = onStep
    ? async (chunk, ctx) => {
        const t0 = Date.now();
        onStep({ phase: "start", id: chunk.id, fun: `${chunk.state}.${chunk.fun} ${chunk.name}` });
        const outcome = await run(chunk, ctx);
        onStep({ phase: "end", id: chunk.id, fun: `${chunk.state}.${chunk.fun} ${chunk.name}`, outcome, ms: Date.now() - t0 });
        return outcome;
      }
    : run;
  const outcome = await executeRun(compiled.plan, runStep, { test: dryRun, now: () => ports.now(), ...(req.signal ? { signal: req.signal } : {}) });
  const failed = Object.values(outcome.results).some((r) => r.result === false) || outcome.notRun.length > 0;
  const retcode = failed ? 1 : 0;
  const data = { [`${req.masterId ?? "reactor"}_master`]: outcome.results };
  const result: OrchestrationResult = { jid, retcode, outputter: "highstate", data, not_run: outcome.notRun };
  const summary: RunSummary = { jid, file: compiled.file, sls: compiled.sls, dryRun, startedAt, finishedAt: ports.now(), retcode, results: outcome.results, notRun: outcome.notRun };
  await ports.runs.save(jid, summary);
  await ports.emit(`salt/run/${jid}/ret`, { fun: "runner.state.orchestrate", fun_args: funArgs, jid, user, return: { data, outputter: "highstate", retcode }, success: retcode === 0 });
  return result;
}
