/**
 * Path-style tag globs (`glob: path` in a map entry) through minimatch: `*` stays within one
 * `/`-separated segment, `**` crosses segments, braces expand (`{start,stop}`). Dot-segments match
 * like any other, `#` and leading `!` are plain characters. This is the only module that imports
 * minimatch.
 */
import { Minimatch } from "minimatch";

// Tags are not file paths: an empty segment (`a//b`) is a segment, so slashes are never collapsed.
const OPTIONS = { dot: true, nocomment: true, nonegate: true, optimizationLevel: 0, preserveMultipleSlashes: true } as const;
/** Characters that start something other than a literal in a minimatch pattern. */
const PATH_SPECIAL = new Set(["*", "?", "[", "{", "(", "!", "+", "@", "\\"]);

/** Compiles a path-style glob; throws on a pattern minimatch cannot compile. */
export function compilePathGlob(pattern: string): (tag: string) => boolean {
  const mm = new Minimatch(pattern, OPTIONS);
  return (tag) => mm.match(tag);
}

/** The literal characters of a path glob before its first special character. */
export function pathLiteralPrefix(pattern: string): string {
  let i = 0;
  while (i < pattern.length && !PATH_SPECIAL.has(pattern[i]!)) i++;
  return pattern.slice(0, i);
}

/** Compiles a filesystem glob (SLS paths in the map): `*` and `?` skip dot-files, as Python's glob. */
export function compileFileGlob(pattern: string): (path: string) => boolean {
  const mm = new Minimatch(pattern, { dot: false, nocomment: true, nonegate: true });
  return (path) => mm.match(path);
}

/** Whether a filesystem path has glob characters (and so must be expanded). */
export function hasGlobMagic(pattern: string): boolean {
  return new Minimatch(pattern, { nocomment: true, nonegate: true }).hasMagic();
}
