/**
 * Types of the requisite engine: chunks (steps with requisites), plans and Salt-shaped results.
 * The engine knows nothing of what a step does; callers put their step in `payload`.
 */

/** Requisite kinds, in the order Salt checks them (salt/state.py check_requisite). */
export const REQUISITE_KINDS = ["require", "require_any", "watch", "watch_any", "onfail", "onfail_any", "onfail_all", "onchanges", "onchanges_any"] as const;
/**
 * Salt's `prereq` (state runs only, with `PlanOptions.prereq`): the chunk runs only when the named
 * chunks would change (they are first called in test mode); `prerequired` is the reverse edge the
 * plan adds to the named chunks, so that they run after the chunk whose prereq they are.
 */
export const PREREQ_KINDS = ["prereq", "prerequired"] as const;
export type RequisiteKind = (typeof REQUISITE_KINDS)[number] | (typeof PREREQ_KINDS)[number];

/** Reverse forms: `X_in` on step A adds A to the `X` requisites of the steps it names. */
export const REQUISITE_IN_KINDS = ["require_in", "watch_in", "onfail_in", "onchanges_in"] as const;
export type RequisiteInKind = (typeof REQUISITE_IN_KINDS)[number] | "prereq_in";

/**
 * One reference in a requisite list: `- salt: deploy` is `{ key: "salt", value: "deploy" }`,
 * `- deploy` is `{ key: "id", value: "deploy" }`, `- sls: orch.x` names every step of a file.
 * `value` is an fnmatch glob over the step id or name.
 */
export interface RequisiteRef {
  readonly key: string;
  readonly value: string;
}

/** `order:` as written: a number, `first` or `last`. */
export type ChunkOrder = number | "first" | "last";

/** A step as the engine sees it (Salt's low chunk). */
export interface Chunk<P = unknown> {
  /** The id (top-level key). */
  readonly id: string;
  /** The state module, e.g. `salt`, `test`. */
  readonly state: string;
  /** The state function, e.g. `function`, `nop`. */
  readonly fun: string;
  /** Salt's `name` (defaults to the id). */
  readonly name: string;
  /** The SLS the step comes from (`orch.deploy`), for `sls:` references and comments. */
  readonly sls: string;
  readonly order?: ChunkOrder;
  readonly requisites?: Readonly<Partial<Record<RequisiteKind | RequisiteInKind, readonly RequisiteRef[]>>>;
  /** Stop the run when this step fails (default: the run's `failhard`). */
  readonly failhard?: boolean;
  /** Run concurrently with steps it does not depend on. */
  readonly parallel?: boolean;
  /** What the step does; opaque to the engine. */
  readonly payload: P;
}

/** A resolved requisite: its kind and the indexes (into `Plan.chunks`) of the steps it names. */
export interface ResolvedRequisite {
  readonly kind: RequisiteKind;
  readonly targets: readonly number[];
}

/** A chunk in a plan, with its Salt tag and resolved requisites. */
export interface PlannedChunk<P = unknown> {
  readonly chunk: Chunk<P>;
  /** `state_|-id_|-name_|-fun`, the key of its result. */
  readonly tag: string;
  readonly requisites: readonly ResolvedRequisite[];
  /** References that named no chunk, by kind (only with `PlanOptions.missing: "report"`). */
  readonly lost?: Readonly<Record<string, readonly RequisiteRef[]>>;
  /** The chunk closes a requisite cycle (only with `missing: "report"`): Salt's "Recursive requisite found". */
  readonly recursive?: boolean;
}

/** Checked and ordered chunks, ready to run. */
export interface Plan<P = unknown> {
  /** In run order (Salt's order_chunks with auto-order). */
  readonly chunks: readonly PlannedChunk<P>[];
  /** The run-wide failhard (a chunk's own `failhard` wins). */
  readonly failhard: boolean;
}

/** What a step function returns. */
export interface StepOutcome {
  readonly result: boolean | null;
  readonly changes: Readonly<Record<string, unknown>>;
  readonly comment: string;
  /** Overrides the chunk's name in the result. */
  readonly name?: string;
  /** More keys for the result (e.g. `__jid__`, `warnings`). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Salt's skip_watch (unless/onlyif/creates said "nothing to do"): a watch does not call mod_watch. */
  readonly skipWatch?: boolean;
}

/** What the engine tells a step function. */
export interface StepContext {
  /** Called again because a `watch` requisite changed and the first call had no changes (Salt's mod_watch). */
  readonly modWatch: boolean;
  /** Salt's test=True: report, change nothing. */
  readonly test: boolean;
  /** Aborted when the run is abandoned. */
  readonly signal: AbortSignal;
  /** The call is the test-mode look of a `prereq` (then `test` is true as well). */
  readonly prereq?: boolean;
  /** With `modWatch`: the watched chunks that reported changes (Salt's `__reqs__`). */
  readonly watched?: readonly Chunk[];
}

/** Runs one step. A throw becomes a failed result. */
export type RunStep<P = unknown> = (chunk: Chunk<P>, ctx: StepContext) => Promise<StepOutcome>;

/** Salt's result of one state. */
export interface StepResult {
  readonly name: string;
  readonly result: boolean | null;
  readonly changes: Readonly<Record<string, unknown>>;
  readonly comment: string;
  /** Milliseconds, three decimals. */
  readonly duration: number;
  /** `HH:MM:SS.ffffff` (UTC). */
  readonly start_time: string;
  readonly __run_num__: number;
  readonly __id__: string;
  readonly __sls__: string;
  /** False when the step was skipped by onfail/onchanges. */
  readonly __state_ran__?: boolean;
  readonly [key: string]: unknown;
}

/** The outcome of a run. */
export interface RunOutcome {
  /** Results by tag, in run order. */
  readonly results: Readonly<Record<string, StepResult>>;
  /** Tags of steps not run because a failhard step failed, in plan order. */
  readonly notRun: readonly string[];
  /** Tag of the step whose failure stopped the run, if any. */
  readonly failhardTag?: string;
}
