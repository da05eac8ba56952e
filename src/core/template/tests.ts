/** Jinja and Salt tests for `x is name(args)`: defined, none, string, number, mapping, match, ... */
import { pyRegex, reFlags, reMatch } from "./regex.js";
import { EvalError, isMapping, pyEq, pyIn, Undef } from "./values.js";

type Kw = Readonly<Record<string, unknown>>;
/** A test: the value (possibly Undef for `defined`/`undefined`), positional and keyword arguments. */
export type TestFn = (v: unknown, args: readonly unknown[], kw: Kw) => boolean;

const num = (v: unknown): v is number => typeof v === "number";

/** The tests, by name. Tests other than `defined`/`undefined` never see an Undef. */
export const TESTS: ReadonlyMap<string, TestFn> = new Map<string, TestFn>([
  ["defined", (v) => !(v instanceof Undef)],
  ["undefined", (v) => v instanceof Undef],
  ["none", (v) => v === null],
  ["string", (v) => typeof v === "string"],
  ["number", (v) => num(v)],
  ["integer", (v) => num(v) && Number.isInteger(v)],
  ["float", (v) => num(v) && !Number.isInteger(v)],
  ["boolean", (v) => typeof v === "boolean"],
  ["true", (v) => v === true],
  ["false", (v) => v === false],
  ["mapping", (v) => isMapping(v)],
  ["sequence", (v) => Array.isArray(v) || typeof v === "string" || isMapping(v)],
  ["iterable", (v) => Array.isArray(v) || typeof v === "string" || isMapping(v)],
  ["list", (v) => Array.isArray(v)],
  ["callable", () => false],
  ["equalto", (v, [x]) => pyEq(v, x)],
  ["eq", (v, [x]) => pyEq(v, x)],
  ["==", (v, [x]) => pyEq(v, x)],
  ["ne", (v, [x]) => !pyEq(v, x)],
  ["in", (v, [x]) => pyIn(v, x)],
  ["even", (v) => num(v) && v % 2 === 0],
  ["odd", (v) => num(v) && Math.abs(v % 2) === 1],
  ["divisibleby", (v, [x]) => num(v) && num(x) && x !== 0 && v % x === 0],
  ["lower", (v) => typeof v === "string" && v === v.toLowerCase()],
  ["upper", (v) => typeof v === "string" && v === v.toUpperCase()],
  ["match", (v, [re], kw) => typeof v === "string" && reMatch(pyRegex(re, reFlags(kw)), v) !== null],
  ["search", (v, [re], kw) => typeof v === "string" && pyRegex(re, reFlags(kw)).test(v)],
  ["regex_match", (v, [re], kw) => typeof v === "string" && reMatch(pyRegex(re, reFlags(kw)), v) !== null],
]);

/** Runs test `name`; unknown names are errors. */
export function runTest(name: string, v: unknown, args: readonly unknown[], kw: Kw): boolean {
  const fn = TESTS.get(name);
  if (!fn) throw new EvalError(`no test named '${name}'`);
  return fn(v, args, kw);
}
