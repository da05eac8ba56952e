/**
 * Low chunks as the runner reads them: Salt's reserved keys (requisites, global options, dunder
 * keys) split from the state function's arguments, `use`/`use_in` applied, and each chunk turned
 * into a chunk of the requisite engine.
 */
import { parseRequisiteRefs, type Chunk, type RequisiteRef } from "../core/requisites/index.js";
import type { LowChunk, StateArgs, StateModule } from "./types.js";

/** Requisites the engine resolves (Salt's STATE_REQUISITE_KEYWORDS and their `_in` forms). */
const ENGINE_REQUISITES = [
  "require",
  "require_any",
  "watch",
  "watch_any",
  "onfail",
  "onfail_any",
  "onfail_all",
  "onchanges",
  "onchanges_any",
  "prereq",
  "require_in",
  "watch_in",
  "onfail_in",
  "onchanges_in",
  "prereq_in",
] as const;

/** Keys Salt keeps from the state function (STATE_INTERNAL_KEYWORDS, less `runas`: cmd states take it). */
const RESERVED = new Set<string>([
  ...ENGINE_REQUISITES,
  "listen",
  "listen_in",
  "use",
  "use_in",
  "prerequired",
  "onfail_stop",
  "fun",
  "state",
  "check_cmd",
  "cmd_opts_exclude",
  "failhard",
  "onlyif",
  "unless",
  "creates",
  "retry",
  "order",
  "parallel",
  "reload_modules",
  "reload_grains",
  "reload_pillar",
  "runas_password",
  "fire_event",
  "saltenv",
  "umask",
  "names",
  "__env__",
  "__sls__",
  "__id__",
  "__prereq__",
  "__prerequired__",
  "__umask__",
]);

/** One chunk ready to run: its Salt data, its arguments and its module. */
export interface LowStep {
  readonly low: LowChunk;
  readonly args: StateArgs;
  readonly module: StateModule | undefined;
  /** A listener's mod_watch (Salt's call_listen), called with `sfun`. */
  readonly listener?: boolean;
  /** A requisite value that is not a requisite list (reported as the chunk's failure). */
  readonly invalid?: string;
}

/** The state function's arguments of a low chunk (what Salt's format_call passes). */
export function stateArgs(low: LowChunk): StateArgs {
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(low)) if (!RESERVED.has(k) && !k.startsWith("__pub_")) args[k] = v;
  return { ...args, name: low.name };
}

/**
 * Keys `use` does not copy: requisites, and what makes a chunk itself (Salt copies every other
 * argument, global options such as onlyif included).
 */
const NOT_USED = new Set<string>([
  ...ENGINE_REQUISITES,
  "listen",
  "listen_in",
  "use",
  "use_in",
  "prerequired",
  "onfail_stop",
  "name",
  "names",
  "state",
  "fun",
  "__id__",
  "__sls__",
  "__env__",
]);

/** Salt's `use` / `use_in`: arguments of the named states that the using state does not set. */
export function applyUse(chunks: readonly LowChunk[]): LowChunk[] {
  const extra = chunks.map(() => ({}) as Record<string, unknown>);
  const exact = (ref: RequisiteRef) => (c: LowChunk) =>
    (ref.key === "id" || ref.key === c.state) && (c.__id__ === ref.value || c.name === ref.value);
  const copy = (to: number, from: LowChunk): void => {
    for (const [k, v] of Object.entries(from)) {
      if (NOT_USED.has(k) || k in chunks[to]! || k in extra[to]!) continue;
      extra[to]![k] = v;
    }
  };
  chunks.forEach((c, i) => {
    for (const ref of refsOf(c.use)) {
      const src = chunks.find(exact(ref));
      if (src) copy(i, src);
    }
    for (const ref of refsOf(c.use_in)) {
      chunks.forEach((d, j) => {
        if (exact(ref)(d)) copy(j, c);
      });
    }
  });
  return chunks.map((c, i) => ({ ...extra[i]!, ...c }));
}

/** Requisite references of a value, or none when it is absent or malformed. */
export function refsOf(value: unknown): RequisiteRef[] {
  if (value === undefined || value === null) return [];
  const refs = parseRequisiteRefs(value);
  return typeof refs === "string" ? [] : refs;
}

/** A low chunk as a chunk of the requisite engine. */
export function engineChunk(low: LowChunk, modules: ReadonlyMap<string, StateModule>): Chunk<LowStep> {
  const module = modules.get(low.state);
  const requisites: Partial<Record<string, RequisiteRef[]>> = {};
  let invalid: string | undefined;
  for (const key of ENGINE_REQUISITES) {
    const value = low[key];
    if (value === undefined || value === null) continue;
    const refs = parseRequisiteRefs(value);
    if (typeof refs === "string") {
      invalid = `Invalid requisite ${key} in ID '${low.__id__}' in SLS '${low.__sls__}': ${refs}`;
      continue;
    }
    // Salt: without a mod_watch, a watch is a require.
    const kind =
      !module?.modWatch && key.startsWith("watch") && !key.endsWith("_in")
        ? key.replace("watch", "require")
        : key;
    requisites[kind] = [...(requisites[kind] ?? []), ...refs];
  }
  const step: LowStep = { low, args: stateArgs(low), module, ...(invalid ? { invalid } : {}) };
  return {
    id: low.__id__,
    state: low.state,
    fun: low.fun,
    name: low.name,
    sls: low.__sls__,
    ...(low.order !== undefined ? { order: low.order } : {}),
    requisites,
    ...(typeof low.failhard === "boolean" ? { failhard: low.failhard } : {}),
    ...(low.parallel === true ? { parallel: true } : {}),
    payload: step,
  };
}

/** The `_in` requisites Salt turns into an extend of the named state (salt/state.py requisite_in). */
const EXTENDING_IN = ["require_in", "watch_in", "onfail_in", "onchanges_in", "prereq_in"] as const;

/**
 * Salt's "Cannot extend ID" errors of requisite_in (reconcile_extend, strict): an `_in` reference
 * `- state: name` must name the ID of a state of that type, or the `name` of exactly one such ID.
 * Bare references that name nothing and `sls:` references are skipped, as Salt does.
 */
export function requisiteInErrors(chunks: readonly LowChunk[]): string[] {
  const errors: string[] = [];
  for (const c of chunks) {
    for (const key of EXTENDING_IN) {
      for (const ref of refsOf(c[key])) {
        if (ref.key === "id" || ref.key === "sls") continue;
        if (chunks.some((d) => d.__id__ === ref.value && d.state === ref.key)) continue;
        const ids = new Set(
          chunks.filter((d) => d.state === ref.key && d.name === ref.value).map((d) => d.__id__),
        );
        if (ids.size === 1) continue;
        const msg =
          `Cannot extend ID '${ref.value}' in '${c.__env__}:${c.__sls__}'. It is not part of the high state.\n` +
          "This is likely due to a missing include statement or an incorrectly typed ID.\n" +
          `Ensure that a state with an ID of '${ref.value}' is available\nin environment '${c.__env__}' and to SLS '${c.__sls__}'`;
        if (!errors.includes(msg)) errors.push(msg);
      }
    }
  }
  return errors;
}
