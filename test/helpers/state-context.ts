/**
 * A real StateContext for state module tests: execution functions from the agent's built-in
 * registry (real commands), `salt://` from temp file_roots on disk, the command service manager
 * from an agent.yaml `services:` text, events collected in memory.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBuiltinRegistry, createServiceManager } from "../../src/agent/index.js";
import type { ModuleContext } from "../../src/agent/index.js";
import { compileAgentConfig } from "../../src/config/index.js";
import { silentLogger, type EventSink, type ReactorEvent } from "../../src/core/index.js";
import {
  localFileClient,
  renderTextTemplate,
  type ExecCaller,
  type FileRoots,
  type StateContext,
} from "../../src/state/index.js";

export interface StateContextOptions {
  readonly test?: boolean;
  readonly roots?: FileRoots;
  readonly grains?: Record<string, unknown>;
  readonly pillar?: Record<string, unknown>;
  /** agent.yaml text (for `services:`); default: an id and a temp state_dir. */
  readonly agentYaml?: string;
  readonly id?: string;
}

/** A StateContext plus what the test may want to look at. */
export interface TestStateContext {
  readonly ctx: StateContext;
  readonly events: { tag: string; data: Record<string, unknown> }[];
  /** The same context with other fields (e.g. `{ test: true }`). */
  with(over: Partial<StateContext>): StateContext;
}

export function makeStateContext(opts: StateContextOptions = {}): TestStateContext {
  const id = opts.id ?? "state-test";
  const stateDir = mkdtempSync(join(tmpdir(), "state-ctx-"));
  const config = compileAgentConfig(opts.agentYaml ?? `id: ${id}\nstate_dir: ${stateDir}\n`, "agent.yaml");
  const registry = createBuiltinRegistry();
  const events: { tag: string; data: Record<string, unknown> }[] = [];
  const emit: EventSink = {
    emit: (tag, data) => {
      events.push({ tag, data });
      return Promise.resolve({ tag, data } as unknown as ReactorEvent);
    },
  };
  const serviceManager = createServiceManager({ ...config, service_manager: "command" });
  const ac = new AbortController();
  const moduleCtx = (fun: string): ModuleContext => ({
    config,
    logger: silentLogger,
    emit,
    serviceManager,
    signal: ac.signal,
    job: {
      jid: "20261205000000000000",
      fun,
      arg: [],
      kwarg: {},
      tgt: id,
      tgt_type: "glob",
      timeout: 60,
    } as unknown as ModuleContext["job"],
    listFunctions: () => registry.list(),
    setRetcode: () => undefined,
  });
  const exec: ExecCaller = async (fun, args = [], kwargs = {}) => {
    const fn = registry.get(fun);
    if (!fn) throw new Error(`'${fun}' is not available.`);
    return fn([...args], { ...kwargs }, moduleCtx(fun));
  };
  const files = localFileClient(opts.roots ?? {});
  const ctx: StateContext = {
    test: opts.test ?? false,
    id,
    saltenv: "base",
    sls: "test",
    stateId: "test",
    grains: opts.grains ?? { id },
    pillar: opts.pillar ?? {},
    logger: silentLogger,
    signal: ac.signal,
    files,
    exec,
    render: (source, file, context, o) =>
      renderTextTemplate({ files, saltenv: o?.saltenv ?? "base", id, grains: opts.grains ?? { id }, pillar: opts.pillar ?? {}, opts: {}, exec }, source, file, context),
    serviceManager,
    emit,
  };
  return { ctx, events, with: (over) => ({ ...ctx, ...over }) };
}
