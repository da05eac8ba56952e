/** Python's fnmatch.fnmatchcase for SLS names, exclude patterns and filter_by keys (cached). */
import { fnmatchToRegExpSource } from "../core/glob/index.js";

const cache = new Map<string, RegExp>();

/** The anchored RegExp of an fnmatch pattern. */
export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    re = new RegExp(fnmatchToRegExpSource(pattern), "su");
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** fnmatch.filter(names, pattern). */
export function fnmatchFilter(names: readonly string[], pattern: string): string[] {
  const re = globToRegExp(pattern);
  return names.filter((n) => re.test(n));
}
