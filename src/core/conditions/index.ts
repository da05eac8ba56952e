/**
 * Conditions of reactor map entries (`when:`): JSON-logic over `{tag, data}`. A condition is
 * checked once at load (known operators only, no unsafe variable paths) and then evaluated per
 * event. `explain` tells which sub-condition made it false.
 */
import { ConditionError } from "../errors.js";
import { ALLOWED_OPERATORS, applyLogic, isForbiddenPath, truthy } from "./safe-logic.js";

/** What a condition sees. */
export interface ConditionContext {
  readonly tag: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** One sub-condition that evaluated false (or the condition that failed to evaluate). */
export interface ConditionFailure {
  /** Where in the rule: `` for the whole rule, `and[1]`, `and[1].or[0]`, ... */
  readonly path: string;
  /** The sub-rule, as written. */
  readonly rule: unknown;
  /** The values of its arguments for this event (for comparisons), when known. */
  readonly values?: readonly unknown[];
}

/** The outcome of a condition for one event, with the reasons when it is false. */
export interface ConditionExplanation {
  readonly result: boolean;
  /** The innermost false sub-conditions (empty when result is true). */
  readonly failed: readonly ConditionFailure[];
  /** The evaluation error, if evaluating threw (the condition then counts as false). */
  readonly error?: string;
}

/** A compiled condition. */
export interface CompiledCondition {
  readonly rule: unknown;
  /** True when the rule is truthy for the event; an evaluation error counts as false. */
  test(ctx: ConditionContext): boolean;
  explain(ctx: ConditionContext): ConditionExplanation;
}

/** Checks a JSON-logic rule and compiles it; throws ConditionError naming the sub-rule's path. */
export function compileCondition(rule: unknown): CompiledCondition {
  checkRule(rule, "");
  const frozen = deepFreeze(structuredClone(rule));
  return {
    rule: frozen,
    test: (ctx) => {
      try {
        return truthy(applyLogic(frozen, ctx));
      } catch {
        return false;
      }
    },
    explain: (ctx) => explainRule(frozen, ctx),
  };
}

/** Formats a failure for people: `and[1]: {"==":[...]} is false (values: true, false)`. */
export function describeFailure(f: ConditionFailure): string {
  const where = f.path ? `${f.path}: ` : "";
  const values = f.values ? ` (values: ${f.values.map((v) => JSON.stringify(v) ?? "undefined").join(", ")})` : "";
  return `${where}${JSON.stringify(f.rule)} is false${values}`;
}

function checkRule(rule: unknown, path: string): void {
  if (Array.isArray(rule)) {
    rule.forEach((r, i) => checkRule(r, `${path}[${i}]`));
    return;
  }
  if (rule === null || typeof rule !== "object") return;
  const keys = Object.keys(rule);
  if (keys.length !== 1) {
    throw new ConditionError(path, `an object in a condition must have exactly one key, the operator; found ${keys.length}`);
  }
  const op = keys[0]!;
  if (!ALLOWED_OPERATORS.has(op)) throw new ConditionError(path, `unknown operator ${JSON.stringify(op)}`);
  const args = (rule as Record<string, unknown>)[op];
  const opPath = path ? `${path}.${op}` : op;
  if (op === "var") checkVar(args, opPath);
  checkRule(args, opPath);
}

function checkVar(args: unknown, path: string): void {
  const first = Array.isArray(args) ? args[0] : args;
  if (typeof first !== "string" && typeof first !== "number") return;
  const bad = isForbiddenPath(String(first));
  if (bad !== undefined) throw new ConditionError(path, `variable ${JSON.stringify(first)} uses the forbidden key ${JSON.stringify(bad)}`);
}

function explainRule(rule: unknown, ctx: ConditionContext): ConditionExplanation {
  try {
    if (truthy(applyLogic(rule, ctx))) return { result: true, failed: [] };
    return { result: false, failed: failuresOf(rule, "", ctx) };
  } catch (err) {
    return { result: false, failed: [{ path: "", rule }], error: err instanceof Error ? err.message : String(err) };
  }
}

/** The innermost false sub-rules of a rule known to be false. */
function failuresOf(rule: unknown, path: string, ctx: ConditionContext): ConditionFailure[] {
  const op = operatorOf(rule);
  if (op === undefined) return [{ path, rule }];
  const args = asArgs((rule as Record<string, unknown>)[op]);
  const at = (i: number) => `${path ? `${path}.` : ""}${op}[${i}]`;
  if (op === "and") {
    const i = args.findIndex((a) => !truthy(applyLogic(a, ctx)));
    return i < 0 ? [{ path, rule }] : failuresOf(args[i], at(i), ctx);
  }
  if (op === "or") return args.flatMap((a, i) => failuresOf(a, at(i), ctx));
  const scoped = new Set(["if", "?:", "map", "filter", "reduce", "all", "none", "some"]);
  if (scoped.has(op)) return [{ path, rule }];
  return [{ path, rule, values: args.map((a) => applyLogic(a, ctx)) }];
}

function operatorOf(rule: unknown): string | undefined {
  if (rule === null || typeof rule !== "object" || Array.isArray(rule)) return undefined;
  const keys = Object.keys(rule);
  return keys.length === 1 ? keys[0] : undefined;
}

function asArgs(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
