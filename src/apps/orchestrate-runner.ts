/**
 * The service's `state.orchestrate` runner: resolves `mods` against the folder of reactor.yaml,
 * compiles the orchestration before answering (errors go to the reaction), then runs it in the
 * background so that a long rolling deploy never holds up the event stream.
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { errorMessage, type Logger } from "../core/index.js";
import { compileOrchestration, runCompiled, slsName, type MineHelper, type OrchestratePorts } from "../orchestrate/index.js";
import type { ServiceFunction } from "../reactor/index.js";

/** `orch/deploy.sls`, `orch.deploy` or an absolute path -> a file under `root`. */
export function resolveMods(mods: string, root: string): string {
  if (isAbsolute(mods)) return mods;
  const rel = mods.endsWith(".sls") || mods.includes("/") ? mods : `${mods.replace(/\./g, "/")}.sls`;
  const file = resolve(root, rel);
  if (!file.startsWith(resolve(root) + "/")) throw new Error(`mods ${JSON.stringify(mods)} points outside ${root}`);
  return file;
}

/** Creates the runner; `runs` tracks background runs (for a clean stop). */
/** `signal` abandons the runs in progress (the service stops): no new step starts, waits end. */
export function orchestrateRunner(opts: { configFile: string; ports: () => Promise<OrchestratePorts>; log: Logger; runs: Set<Promise<unknown>>; mine?: MineHelper; signal?: AbortSignal }): ServiceFunction {
  const root = dirname(resolve(opts.configFile));
  const fn = async (kwarg: Readonly<Record<string, unknown>>, ctx: Parameters<ServiceFunction>[1]) => {
    const mods = kwarg["mods"] ?? ctx.arg[0];
    if (typeof mods !== "string") throw new Error("state.orchestrate needs mods (the orchestration SLS)");
    const pillar = (kwarg["pillar"] ?? {}) as Record<string, unknown>;
    if (pillar === null || typeof pillar !== "object" || Array.isArray(pillar)) throw new Error("pillar must be a mapping");
    const file = resolveMods(mods, root);
    const rel = relative(root, file);
    const req = { file, sls: slsName(rel.startsWith("..") ? file : rel), pillar, user: "reactor", jid: ctx.jid, dryRun: kwarg["test"] === true, ...(opts.mine ? { mine: opts.mine } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const compiled = await compileOrchestration(req);
    const ports = await opts.ports();
    const run = runCompiled(compiled, req, ports).then(
      (r) => opts.log.info({ jid: r.jid, retcode: r.retcode, file: join(req.file) }, "orchestration finished"),
      (err: unknown) => opts.log.error({ jid: ctx.jid, err: errorMessage(err) }, "orchestration failed"),
    );
    opts.runs.add(run);
    void run.finally(() => opts.runs.delete(run));
    return { jid: ctx.jid, started: true, file: req.file };
  };
  return Object.assign(fn, { ownRunEvents: true });
}
