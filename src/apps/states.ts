/**
 * Wiring of the state system (DESIGN.md 11) into an agent's execution functions: `state.*` with
 * the compiler, the built-in state modules, execution calls through the agent's own registry
 * (Salt's `__salt__`), `salt://` through the agent's FileClient, and file templates rendered with
 * the state context. The agent and `reactor call --local` use the same wiring.
 */
import type { ModuleContext, ModuleFunction, ModuleRegistry } from "../agent/index.js";
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
}
