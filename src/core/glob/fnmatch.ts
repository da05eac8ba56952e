/**
 * Salt's tag globs: Python's `fnmatch.fnmatchcase` semantics, compiled to one RegExp.
 * `*` matches any run of characters (including `/`), `?` one character, `[seq]` one character in
 * seq, `[!seq]` one character not in seq; the match is anchored at both ends and case-sensitive.
 * A `[` without a closing `]` is a literal `[`, as in Python.
 */

/** Characters that make a pattern position a wildcard in fnmatch. */
const FNMATCH_SPECIAL = new Set(["*", "?", "["]);

/** Translates an fnmatch pattern to the source of an anchored RegExp (flags `su`). */
export function fnmatchToRegExpSource(pattern: string): string {
  const chars = Array.from(pattern);
  let out = "";
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    i++;
    if (c === "*") {
      while (chars[i] === "*") i++;
      out += "[^]*";
    } else if (c === "?") {
      out += "[^]";
    } else if (c === "[") {
      const set = readSet(chars, i);
      if (set === undefined) {
        out += "\\[";
      } else {
        out += set.source;
        i = set.next;
      }
    } else {
      out += escapeChar(c);
    }
  }
  return `^${out}$`;
}

/** Reads a `[...]` set starting after the `[`; undefined when it is not closed. */
function readSet(chars: readonly string[], start: number): { source: string; next: number } | undefined {
  let j = start;
  if (chars[j] === "!") j++;
  if (chars[j] === "]") j++;
  while (j < chars.length && chars[j] !== "]") j++;
  if (j >= chars.length) return undefined;
  let body = chars.slice(start, j);
  const negate = body[0] === "!";
  if (negate) body = body.slice(1);
  const parts: string[] = [];
  for (let k = 0; k < body.length; k++) {
    const lo = body[k]!;
    const hi = body[k + 2];
    if (body[k + 1] === "-" && hi !== undefined) {
      // Python 3.9+ drops empty ranges such as z-a.
      if (lo.codePointAt(0)! <= hi.codePointAt(0)!) parts.push(`${escapeInSet(lo)}-${escapeInSet(hi)}`);
      k += 2;
    } else {
      parts.push(escapeInSet(lo));
    }
  }
  const next = j + 1;
  if (parts.length === 0) return { source: negate ? "[^]" : "(?!)", next };
  return { source: `[${negate ? "^" : ""}${parts.join("")}]`, next };
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeInSet(c: string): string {
  return /[\\^\]\[-]/.test(c) ? `\\${c}` : c;
}

/** The literal characters of an fnmatch pattern before its first wildcard. */
export function fnmatchLiteralPrefix(pattern: string): string {
  let i = 0;
  while (i < pattern.length && !FNMATCH_SPECIAL.has(pattern[i]!)) i++;
  return pattern.slice(0, i);
}

/** Whether an fnmatch pattern has no wildcard at all. */
export function fnmatchIsLiteral(pattern: string): boolean {
  return fnmatchLiteralPrefix(pattern).length === pattern.length;
}

/** The literal characters of an fnmatch pattern after its last wildcard (`]` of a set counts as one). */
export function fnmatchLiteralSuffix(pattern: string): string {
  let i = pattern.length;
  while (i > 0 && !FNMATCH_SPECIAL.has(pattern[i - 1]!) && pattern[i - 1] !== "]") i--;
  return pattern.slice(i);
}
