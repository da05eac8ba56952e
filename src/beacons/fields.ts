/**
 * A small reader for beacon options that reports problems with their field path.
 *
 * Salt gives a beacon's options as a list of one-key maps (`[{services: ...}, {interval: 10}]`),
 * merged into one map; a Fields remembers where each key came from, so an error names
 * `beacons.diskusage[0]./` rather than the merged map.
 */
import type { FieldPath } from "../config/index.js";
import { editDistance } from "../core/index.js";

/** A problem in one option, thrown by parsers and turned into a ConfigError by compileBeacons. */
export class OptionProblem extends Error {
  constructor(
    readonly path: FieldPath,
    readonly reason: string,
  ) {
    super(reason);
    this.name = "OptionProblem";
  }
}

/** True for a plain (non-array) object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Typed access to one map of options, each key with its field path. */
export class Fields {
  constructor(
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly origin: (key: string) => FieldPath,
    /** Path of the map itself (for errors about the whole map). */
    readonly path: FieldPath,
  ) {}

  /** A Fields over a plain map found at `path`. */
  static of(value: Readonly<Record<string, unknown>>, path: FieldPath): Fields {
    return new Fields(value, (k) => [...path, k], path);
  }

  keys(): string[] {
    return Object.keys(this.values);
  }
  has(key: string): boolean {
    return Object.hasOwn(this.values, key) && this.values[key] !== undefined && this.values[key] !== null;
  }
  get(key: string): unknown {
    return this.values[key];
  }
  pathOf(key: string): FieldPath {
    return this.origin(key);
  }
  /** Throws an OptionProblem for `key` (or the map itself when no key is given). */
  fail(key: string | undefined, reason: string): never {
    throw new OptionProblem(key === undefined ? this.path : this.origin(key), reason);
  }

  bool(key: string, def: boolean): boolean {
    if (!this.has(key)) return def;
    const v = this.get(key);
    if (typeof v !== "boolean") this.fail(key, "must be true or false");
    return v;
  }
  number(key: string, def: number, opts: { min?: number; integer?: boolean } = {}): number {
    if (!this.has(key)) return def;
    return this.requiredNumber(key, opts);
  }
  requiredNumber(key: string, opts: { min?: number; integer?: boolean } = {}): number {
    const v = this.get(key);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, "must be a number");
    if (opts.integer && !Number.isInteger(v)) this.fail(key, "must be a whole number");
    if (opts.min !== undefined && v < opts.min) this.fail(key, `must be at least ${opts.min}`);
    return v;
  }
  string(key: string): string {
    const v = this.get(key);
    if (typeof v !== "string" || v.length === 0) this.fail(key, "must be a non-empty string");
    return v;
  }
  optString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }
  /** A list of strings; a single string is accepted as a list of one. */
  strings(key: string, def: readonly string[] = []): string[] {
    if (!this.has(key)) return [...def];
    const v = this.get(key);
    const list = typeof v === "string" ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) this.fail(key, "must be a list of strings");
    return list as string[];
  }
  /** A nested map as Fields; a missing or null value gives an empty map (Salt writes `nginx:` for "no options"). */
  map(key: string): Fields {
    const v = this.get(key);
    if (v === undefined || v === null) return Fields.of({}, this.origin(key));
    if (!isPlainObject(v)) this.fail(key, "must be a map");
    return Fields.of(v, this.origin(key));
  }
  /** A nested map that must be present and non-empty. */
  requiredMap(key: string): Fields {
    if (!this.has(key)) this.fail(undefined, `needs ${JSON.stringify(key)}`);
    const m = this.map(key);
    if (m.keys().length === 0) this.fail(key, "must not be empty");
    return m;
  }
  /** Fails on keys not in `known`, suggesting the closest one. */
  onlyKeys(known: readonly string[]): void {
    for (const k of this.keys()) {
      if (!known.includes(k)) this.fail(k, `is not an option here${suggest(k, known)}`);
    }
  }
}

/** Parses Salt's percentage `"90%"` (or a bare number) into a number 0..100. */
export function parsePercent(f: Fields, key: string): number {
  const v = f.get(key);
  const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v) : null;
  const n = typeof v === "number" ? v : m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) f.fail(key, 'must be a percentage like "90%"');
  return n;
}

/** `, did you mean "x"?` for the closest of `candidates` within a small edit distance, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? `, did you mean ${JSON.stringify(best)}?` : "";
}

