/**
 * mgmt's CheckApply for state functions: `check` only looks and says what would change; `apply`
 * makes it so. Test mode is `check` alone, so it never drifts from the real run.
 */
import type { StateArgs, StateContext, StateFunction, StateReturn } from "../types.js";

/** What `check` found. */
export type Check =
  /** Already in the state: nothing to do. */
  | { readonly kind: "ok"; readonly comment: string }
  /** Would change: `changes` as the real run would report them (Salt shows them in test mode too). */
  | { readonly kind: "change"; readonly changes: Readonly<Record<string, unknown>>; readonly comment: string }
  /** Cannot be brought into the state (a bad source, a missing parent without makedirs). */
  | { readonly kind: "fail"; readonly comment: string; readonly changes?: Readonly<Record<string, unknown>> };

/** A state function as parse, check and apply. */
export interface CheckApplySpec<A> {
  /** Checks and normalises the arguments; throws StateArgumentError naming the field. */
  parse(args: StateArgs, ctx: StateContext): A | Promise<A>;
  check(a: A, ctx: StateContext): Promise<Check>;
  /** Called only when `check` said "change" and the run is not in test mode. */
  apply(a: A, found: Extract<Check, { kind: "change" }>, ctx: StateContext): Promise<StateReturn>;
}

/** Builds a StateFunction from a CheckApplySpec. */
export function checkApply<A>(spec: CheckApplySpec<A>): StateFunction {
  return async (args, ctx) => {
    const a = await spec.parse(args, ctx);
    const found = await spec.check(a, ctx);
    switch (found.kind) {
      case "ok":
        return { result: true, changes: {}, comment: found.comment };
      case "fail":
        return { result: false, changes: found.changes ?? {}, comment: found.comment };
      case "change":
        if (ctx.test) return { result: null, changes: found.changes, comment: found.comment };
        return spec.apply(a, found, ctx);
    }
  };
}
