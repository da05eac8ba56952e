/**
 * Wiring of the state system (DESIGN.md 11) into an agent's execution functions: `state.*` with
 * the compiler, the built-in state modules, execution calls through the agent's own registry
 * (Salt's `__salt__`), `salt://` through the agent's FileClient, and file templates rendered with
 * the state context. The agent and `reactor call --local` use the same wiring.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";
import {
  loadUserModules,
  type ModuleContext,
  type ModuleFunction,
  type ModuleRegistry,
} from "../agent/index.js";
import type { AgentConfig } from "../config/index.js";
import { ExecutionError } from "../core/errors.js";
import type { EventSink, FileClient, Logger, ServiceManager } from "../core/index.js";
import {
  renderTextTemplate,
  stateCompiler,
  stateExecModule,
  type ExecCaller,
  type TemplateRenderer,
} from "../state/index.js";

type Dict = Readonly<Record<string, unknown>>;

/** What the state functions need from the agent. */
export interface StateWiring {
  readonly config: AgentConfig;
  readonly files: FileClient;
  readonly emit: EventSink;
  readonly serviceManager: ServiceManager;
  readonly logger: Logger;
  readonly grains: () => Promise<Dict>;
  /** The agent's pillar (empty until pillar lands). */
  readonly pillar?: () => Promise<Dict>;
}

/** Registers `state.*` on `registry`. */
export function addStateFunctions(registry: ModuleRegistry, w: StateWiring): void {
  // Execution calls made by states and templates run in the context of the state job that makes
  // them (its abort signal); they never set that job's retcode.
  let current: ModuleContext | undefined;
  const idle = new AbortController().signal;
  const exec: ExecCaller = async (fun, args = [], kwargs = {}) => {
    const fn = registry.get(fun);
    if (!fn) throw new ExecutionError(`'${fun}' is not available.`);
    const outer = current;
    const ctx: ModuleContext = {
      config: w.config,
      logger: w.logger,
      emit: w.emit,
      serviceManager: w.serviceManager,
      files: w.files,
      signal: outer?.signal ?? idle,
      job: outer?.job ?? {
        jid: "state",
        fun,
        arg: [],
        kwarg: {},
        tgt: w.config.id,
        tgt_type: "list",
        timeout: w.config.job_timeout,
        expires: "",
        user: "state",
      },
      listFunctions: () => registry.list(),
      setRetcode: () => undefined,
    };
    return fn([...args], { ...kwargs }, ctx);
  };
  const pillar = w.pillar ?? (() => Promise.resolve({}));
  const render: TemplateRenderer = async (source, file, context, opts) =>
    renderTextTemplate(
      {
        files: w.files,
        saltenv: opts?.saltenv ?? "base",
        id: w.config.id,
        grains: await w.grains(),
        pillar: await pillar(),
        opts: {},
        exec,
      },
      source,
      file,
      context,
    );
  const table = stateExecModule({
    id: w.config.id,
    files: w.files,
    exec,
    render,
    serviceManager: w.serviceManager,
    emit: w.emit,
    logger: w.logger.child({ component: "state" }),
    grains: w.grains,
    pillar,
    compiler: stateCompiler,
  });
  const fns: Record<string, ModuleFunction> = {};
  for (const [name, fn] of Object.entries(table)) {
    fns[name.replace(/^state\./, "")] = (args, kwargs, ctx) => {
      current = ctx;
      return fn(args, kwargs, {
        jid: ctx.job.jid,
        fun: ctx.job.fun,
        signal: ctx.signal,
        setRetcode: ctx.setRetcode,
      });
    };
  }
  registry.add("state", fns);
  registry.add("saltutil", saltutil(registry, w), { replace: true });
  registry.add("cp", { get_template: getTemplate(w, render) }, { replace: true });
}

/**
 * saltutil.sync_modules / sync_all (the user modules of `modules_dir` loaded again, changed files
 * re-imported; Salt's answer lists them as `modules.<name>`) and refresh_pillar (True: the pillar
 * is empty until pillar is built).
 */
function saltutil(registry: ModuleRegistry, w: StateWiring): Record<string, ModuleFunction> {
  const syncModules = async (): Promise<string[]> => {
    if (!w.config.modules_dir) return [];
    const res = await loadUserModules(registry, w.config.modules_dir, w.logger);
    for (const e of res.errors) w.logger.error({ err: e }, "user module not loaded");
    return [...new Set(res.loaded.map((f) => `modules.${f.split(".")[0]!}`))].sort();
  };
  return {
    sync_modules: syncModules,
    sync_all: async () => ({
      modules: await syncModules(),
      states: [],
      grains: [],
      beacons: [],
      renderers: [],
      returners: [],
      utils: [],
    }),
    refresh_pillar: () => Promise.resolve(true),
  };
}

/** cp.get_template: a salt:// file rendered with the state context, written to `dest`. */
function getTemplate(w: StateWiring, render: TemplateRenderer): ModuleFunction {
  return async (args, kwargs) => {
    const [path, dest] = [args[0] ?? kwargs.path, args[1] ?? kwargs.dest].map((v) =>
      typeof v === "string" ? v : undefined,
    );
    if (!path || !dest || !isAbsolute(dest))
      throw new ExecutionError("cp.get_template needs a salt:// path and an absolute dest");
    const saltenv = typeof kwargs.saltenv === "string" ? kwargs.saltenv : "base";
    const text = await w.files.read(path, saltenv);
    if (text === undefined) return "";
    const { saltenv: _s, path: _p, dest: _d, makedirs, ...context } = kwargs;
    if (makedirs === true) await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, await render(text, path.replace(/^salt:\/\//, ""), context, { saltenv }));
    return dest;
  };
}
