/**
 * The contract of the state system (DESIGN.md section 11): the ports a state run is given, the
 * shape of a state module, and Salt's data shapes (high data, low chunks, results).
 *
 * Render, compile and run are separate: render turns SLS files into high data, compile turns high
 * data into ordered low chunks, run calls state functions through the requisite engine of
 * `src/core/requisites`. The same code serves `reactor call --local`, the agent, `state.show_*`
 * and test mode.
 */
import type { EventSink, FileClient, Logger, ServiceManager } from "../core/ports.js";
import type { StepOutcome } from "../core/requisites/index.js";

/** `salt://` files: declared in core so the agent and the file server can see it (cross-feature port). */
export type { FileClient } from "../core/ports.js";

/** Calls an execution function as Salt's `salt['cmd.run'](...)` / `__salt__`. Throws on failure. */
export type ExecCaller = (
  fun: string,
  args?: readonly unknown[],
  kwargs?: Readonly<Record<string, unknown>>,
) => Promise<unknown>;

/** Renders a template file's text (`file.managed` with `template: jinja`) with extra context names. */
export type TemplateRenderer = (
  source: string,
  file: string,
  context: Readonly<Record<string, unknown>>,
  opts?: { readonly saltenv?: string },
) => Promise<string>;

/** What every state function is given besides its arguments. */
export interface StateContext {
  /** Salt's test=True: look, report, change nothing. */
  readonly test: boolean;
  /** The agent's id. */
  readonly id: string;
  readonly saltenv: string;
  /** The SLS and state ID being run (for comments and logs). */
  readonly sls: string;
  readonly stateId: string;
  readonly grains: Readonly<Record<string, unknown>>;
  readonly pillar: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  /** Aborted when the run is abandoned (job timeout): child processes are killed. */
  readonly signal: AbortSignal;
  readonly files: FileClient;
  /** Execution functions (`cmd.run_all`, `pkg.install`, ...). */
  readonly exec: ExecCaller;
  readonly render: TemplateRenderer;
  readonly serviceManager: ServiceManager;
  readonly emit: EventSink;
}

/** A state function's arguments: the low chunk's keys that are not requisites or global options. */
export interface StateArgs {
  readonly name: string;
  readonly [key: string]: unknown;
}

/** What a state function returns (Salt's ret without `name`, which defaults to the chunk's). */
export type StateReturn = StepOutcome;

/** One state function (`file.managed`). In test mode it must only look. A throw fails the state. */
export type StateFunction = (args: StateArgs, ctx: StateContext) => Promise<StateReturn>;

/** A state module (`file`): its functions, and `mod_watch` when a `watch` can trigger it. */
export interface StateModule {
  readonly name: string;
  readonly functions: Readonly<Record<string, StateFunction>>;
  /** Called instead of the function when a watched state changed (service restart, cmd.wait). */
  readonly modWatch?: StateFunction;
}

/** Salt's high data: `{id: {state: [fun, {arg: v}, ...], __sls__, __env__}}`. */
export type HighData = Record<string, HighState>;
export interface HighState {
  readonly __sls__: string;
  readonly __env__: string;
  readonly [state: string]: unknown;
}

/** Salt's low chunk, flat as `state.show_lowstate` prints it. */
export interface LowChunk {
  readonly state: string;
  readonly fun: string;
  readonly name: string;
  readonly __id__: string;
  readonly __sls__: string;
  readonly __env__: string;
  readonly order?: number | "first" | "last";
  readonly [key: string]: unknown;
}
