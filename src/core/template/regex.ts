/** Python `re` patterns and replacements, translated to JavaScript RegExp for the regex filters and tests. */
import { EvalError } from "./values.js";

const cache = new Map<string, RegExp>();

/** Compiles a Python pattern (named groups `(?P<n>...)`, `(?P=n)`); `flags` like "im". Cached. */
export function pyRegex(pattern: unknown, flags: string): RegExp {
  if (typeof pattern !== "string") throw new EvalError("a regular expression must be a string");
  const key = `${flags}/${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const src = pattern.replace(/\(\?P<(\w+)>/g, "(?<$1>").replace(/\(\?P=(\w+)\)/g, "\\k<$1>").replace(/\\A/g, "^").replace(/\\Z/g, "$");
    try {
      re = new RegExp(src, flags);
    } catch (err) {
      throw new EvalError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
    if (cache.size > 500) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** Flags from Salt's `ignorecase=` / `multiline=` keyword arguments. */
export function reFlags(kw: Readonly<Record<string, unknown>>, extra = ""): string {
  return (kw.ignorecase === true ? "i" : "") + (kw.multiline === true ? "m" : "") + extra;
}

/** Python's `re.match`: the match must start at the beginning of the string. */
export function reMatch(re: RegExp, s: string): RegExpExecArray | null {
  const sticky = new RegExp(re.source, re.flags.replace("g", "") + "y");
  sticky.lastIndex = 0;
  return sticky.exec(s);
}

/** Translates a Python replacement (`\1`, `\g<1>`, `\g<name>`) to a JS one. */
export function pyReplacement(repl: string): string {
  return repl.replace(/\$/g, "$$$$").replace(/\\g<(\d+)>/g, "$$$1").replace(/\\g<(\w+)>/g, "$$<$1>").replace(/\\(\d+)/g, "$$$1").replace(/\\\\/g, "\\");
}
