/**
 * The only module that imports json-logic-js. It replaces the library's `var` lookup with one
 * that reads own properties only, so `__proto__`, `constructor` and other inherited names never
 * resolve, and it keeps a fixed allow-list of operators (no `method`, which calls functions).
 */
import jsonLogic from "json-logic-js";

/** Operators a condition may use. `method` (arbitrary method calls) is left out on purpose. */
export const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  "var", "missing", "missing_some",
  "if", "?:", "==", "===", "!=", "!==", "!", "!!", "or", "and",
  ">", ">=", "<", "<=", "max", "min", "+", "-", "*", "/", "%",
  "map", "filter", "reduce", "all", "none", "some", "merge", "in", "cat", "substr", "log",
]);

/** Names never read from data, even when they are own properties. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Whether a `var` path contains a forbidden key. */
export function isForbiddenPath(path: string): string | undefined {
  return path.split(".").find((k) => FORBIDDEN_KEYS.has(k));
}

/** Reads a dotted path through own properties only; `notFound` when any step is missing. */
function safeVar(this: unknown, a: unknown, b: unknown): unknown {
  return lookup(this, a, b === undefined ? null : b);
}

function lookup(root: unknown, a: unknown, notFound: unknown): unknown {
  if (a === undefined || a === "" || a === null) return root;
  let data = root;
  for (const key of String(a).split(".")) {
    if (data === null || data === undefined || FORBIDDEN_KEYS.has(key)) return notFound;
    if (typeof data !== "object" && typeof data !== "string") return notFound;
    if (!Object.hasOwn(data as object, key)) return notFound;
    data = (data as Record<string, unknown>)[key];
    if (data === undefined) return notFound;
  }
  return data;
}

jsonLogic.add_operation("var", safeVar);
// `log` writes to the console in the library; make it the identity instead.
jsonLogic.add_operation("log", (a: unknown) => a);
jsonLogic.rm_operation("method");

/** Evaluates a rule (already checked by compileCondition) against data. */
export function applyLogic(rule: unknown, data: unknown): unknown {
  return jsonLogic.apply(rule as Parameters<typeof jsonLogic.apply>[0], data);
}

/** JSON-logic truthiness (empty arrays are false, unlike JavaScript). */
export function truthy(value: unknown): boolean {
  return jsonLogic.truthy(value);
}
