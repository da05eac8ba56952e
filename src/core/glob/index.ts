/**
 * Tag globs of the reactor map: Salt's fnmatch semantics by default, path-style through minimatch
 * on request. Each compiled glob knows its literal prefix, which the map index uses so that
 * matching does not scan every entry.
 */
import { fnmatchLiteralPrefix, fnmatchLiteralSuffix, fnmatchToRegExpSource } from "./fnmatch.js";
import { compilePathGlob, pathLiteralPrefix } from "./path.js";
import { GlobSyntaxError } from "../errors.js";

export { compileFileGlob, hasGlobMagic } from "./path.js";
export { fnmatchToRegExpSource } from "./fnmatch.js";

/** How a tag glob is read: Salt's fnmatch (default) or path-style segments. */
export type GlobMode = "fnmatch" | "path";
/** The glob modes, for validation. */
export const GLOB_MODES: readonly GlobMode[] = ["fnmatch", "path"];

/** A compiled tag glob. */
export interface TagGlob {
  readonly pattern: string;
  readonly mode: GlobMode;
  /** The literal characters before the first wildcard; every matching tag starts with it. */
  readonly literalPrefix: string;
  /** The literal characters after the last wildcard; every matching tag ends with it (path mode: ""). */
  readonly literalSuffix: string;
  /** True when the pattern has no wildcard: it matches exactly one tag. */
  readonly literal: boolean;
  test(tag: string): boolean;
}

/** Compiles a tag glob in the given mode; throws GlobSyntaxError on a pattern that cannot compile. */
export function compileTagGlob(pattern: string, mode: GlobMode = "fnmatch"): TagGlob {
  return mode === "path" ? compilePath(pattern) : compileFnmatch(pattern);
}

function compileFnmatch(pattern: string): TagGlob {
  const literalPrefix = fnmatchLiteralPrefix(pattern);
  if (literalPrefix.length === pattern.length) {
    return { pattern, mode: "fnmatch", literalPrefix, literalSuffix: pattern, literal: true, test: (tag) => tag === pattern };
  }
  const re = new RegExp(fnmatchToRegExpSource(pattern), "su");
  const literalSuffix = fnmatchLiteralSuffix(pattern);
  return { pattern, mode: "fnmatch", literalPrefix, literalSuffix, literal: false, test: (tag) => re.test(tag) };
}

function compilePath(pattern: string): TagGlob {
  let match: (tag: string) => boolean;
  try {
    match = compilePathGlob(pattern);
  } catch (err) {
    throw new GlobSyntaxError(pattern, err instanceof Error ? err.message : String(err));
  }
  const literalPrefix = pathLiteralPrefix(pattern);
  // minimatch forgives a trailing `/` on the tag, so no suffix is promised in path mode.
  return { pattern, mode: "path", literalPrefix, literalSuffix: "", literal: false, test: match };
}

/**
 * Says where a tag departs from a glob, for explanations: the first `/`-segment that differs
 * while both are still literal, else a general sentence.
 */
export function explainGlobMismatch(glob: TagGlob, tag: string): string {
  const pSegs = glob.literalPrefix.split("/");
  const tSegs = tag.split("/");
  // Every segment of the prefix but the last is complete; the last may continue into a wildcard.
  for (let i = 0; i < pSegs.length; i++) {
    const p = pSegs[i]!;
    const t = tSegs[i];
    const complete = i < pSegs.length - 1 || glob.literal;
    if (t === undefined) return `tag ${JSON.stringify(tag)} has only ${tSegs.length} segment(s)`;
    if (complete ? t !== p : !t.startsWith(p)) {
      return `segment ${i + 1} ${JSON.stringify(t)} does not match ${JSON.stringify(complete ? p : `${p}...`)}`;
    }
  }
  return `tag ${JSON.stringify(tag)} does not match the rest of ${JSON.stringify(glob.pattern)} after ${JSON.stringify(glob.literalPrefix)}`;
}
