/**
 * Salt's call_listen: every state that `listen`s to (or is named by a `listen_in` of) a state that
 * changed gets one mod_watch at the end of the run, as `<state>_|-listener_<id>_|-<name>_|-mod_watch`.
 * A reference to no state is Salt's `Listen_Error` result.
 */
import { hasChanges, type Chunk, type RequisiteRef, type StepResult } from "../core/requisites/index.js";
import { refsOf, stateArgs, type LowStep } from "./low.js";
import type { LowChunk, StateModule } from "./types.js";

/** Salt's result for a listen reference that names no state. */
export type ListenError = {
  readonly name: string;
  readonly result: false;
  readonly changes: Record<string, never>;
  readonly comment: string;
  readonly duration: number;
  readonly start_time: string;
  readonly __id__: string;
  readonly __sls__: string;
};

interface Pair {
  readonly listener: RequisiteRef;
  readonly to: RequisiteRef;
}

/** The mod_watch chunks to run after the run, and the Listen_Error results by tag. */
export function listeners(
  lows: readonly LowChunk[],
  results: Readonly<Record<string, StepResult>>,
  modules: ReadonlyMap<string, StateModule>,
): { watchers: Chunk<LowStep>[]; errors: Record<string, ListenError> } {
  const errors: Record<string, ListenError> = {};
  const watchers = new Map<string, Chunk<LowStep>>();
  for (const { listener, to } of pairs(lows)) {
    const targets = matching(lows, to);
    if (targets.length === 0) {
      Object.assign(errors, listenError(to));
      continue;
    }
    if (!targets.some((t) => changed(t, results))) continue;
    const found = matching(lows, listener);
    if (found.length === 0) Object.assign(errors, listenError(listener));
    for (const l of found) {
      const w = watcher(l, modules);
      const tag = `${w.state}_|-${w.id}_|-${w.name}_|-mod_watch`;
      if (!watchers.has(tag)) watchers.set(tag, w);
    }
  }
  return { watchers: [...watchers.values()], errors };
}

/** (listener, listened-to) of every `listen` and `listen_in`. */
function pairs(lows: readonly LowChunk[]): Pair[] {
  const out: Pair[] = [];
  for (const c of lows) {
    const self = { key: c.state, value: c.__id__ };
    for (const ref of refsOf(c.listen)) out.push({ listener: self, to: ref });
    for (const ref of refsOf(c.listen_in)) out.push({ listener: ref, to: self });
  }
  return out;
}

/** Salt's lookup: the state type (or any, for a bare id) and the value as the id or name (exact). */
function matching(lows: readonly LowChunk[], ref: RequisiteRef): LowChunk[] {
  return lows.filter(
    (c) =>
      (ref.key === "id" || ref.key === c.state) &&
      (c.__id__ === ref.value || c.name === ref.value || c.state === ref.value),
  );
}

function changed(t: LowChunk, results: Readonly<Record<string, StepResult>>): boolean {
  const r = results[`${t.state}_|-${t.__id__}_|-${t.name}_|-${t.fun}`];
  return r !== undefined && hasChanges(r);
}

/** The listener's mod_watch chunk (no requisites; `sfun` is the original function). */
function watcher(l: LowChunk, modules: ReadonlyMap<string, StateModule>): Chunk<LowStep> {
  const low: LowChunk = { ...l, sfun: l.fun, fun: "mod_watch", __id__: `listener_${l.__id__}` };
  return {
    id: low.__id__,
    state: low.state,
    fun: "mod_watch",
    name: low.name,
    sls: low.__sls__,
    payload: { low, args: stateArgs(l), module: modules.get(l.state), listener: true },
  };
}

/** Salt's `Listen_Error_|-listen_<value>_|-listen_<key>_|-Listen_Error` result. */
function listenError(ref: RequisiteRef): Record<string, ListenError> {
  const id = `listen_${ref.value}`;
  return {
    [`Listen_Error_|-${id}_|-listen_${ref.key}_|-Listen_Error`]: {
      name: `listen_${ref.key}:${ref.value}`,
      result: false,
      changes: {},
      comment: `Referenced state ${ref.key}: ${ref.value} does not exist`,
      duration: 0,
      start_time: "",
      __id__: id,
      __sls__: "",
    },
  };
}
