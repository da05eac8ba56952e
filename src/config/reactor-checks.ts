/**
 * Field checks for reactor.yaml: each check records a ConfigError (file:line, dotted path) and
 * returns a usable fallback, so one pass collects every problem.
 */
import type { ConfigError } from "../core/errors.js";
import { parseDuration } from "./agent-config.js";
import type { FieldPath, YamlSource } from "./yaml.js";
import { editDistance, isMap } from "../core/index.js";

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
};

/** Parses `1048576`, `512KiB`, `1MiB`, `10MB`, `1 GiB` into bytes; undefined when not a positive size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const scale = m ? SIZE_UNITS[(m[2] ?? "").toLowerCase()] : undefined;
  if (!m || scale === undefined) return undefined;
  const n = Math.round(Number(m[1]) * scale);
  return n > 0 ? n : undefined;
}

/** The closest known name to `key` (edit distance at most 2), for "did you mean" hints. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}



/**
 * What to do with an SLS path of the map that names no file: `error` (a ConfigError: `validate`,
 * `serve`), or `defer` (`reactor test`: as Salt, the entry still matches and the missing file is
 * reported as a render error of the events that need it).
 */
export type MissingSls = "error" | "defer";

/** Collects errors of one YAML source while reading its fields. */
export class FieldChecker {
  constructor(
    readonly src: YamlSource,
    readonly errors: ConfigError[] = [],
    readonly missingSls: MissingSls = "error",
  ) {}

  fail(path: FieldPath, reason: string): void {
    this.errors.push(this.src.error(path, reason));
  }

  /** Reports keys of `raw` that are not in `known`, with a "did you mean" hint when one is close. */
  unknownKeys(raw: Record<string, unknown>, path: FieldPath, known: readonly string[]): void {
    for (const key of Object.keys(raw)) {
      if (known.includes(key)) continue;
      const hint = didYouMean(key, known);
      this.fail([...path, key], hint ? `is not a known field (did you mean ${hint}?)` : `is not a known field (known: ${known.join(", ")})`);
    }
  }

  /** A map section (absent = {}); anything else is an error. */
  section(v: unknown, path: FieldPath, known: readonly string[]): Record<string, unknown> {
    if (v === undefined || v === null) return {};
    if (!isMap(v)) {
      this.fail(path, "must be a map");
      return {};
    }
    this.unknownKeys(v, path, known);
    return v;
  }

  str(v: unknown, path: FieldPath, fallback: string): string {
    return this.optStr(v, path) ?? fallback;
  }

  optStr(v: unknown, path: FieldPath): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string" && v.length > 0) return v;
    this.fail(path, "must be a non-empty string");
    return undefined;
  }

  bool(v: unknown, path: FieldPath, fallback: boolean): boolean {
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    this.fail(path, "must be true or false");
    return fallback;
  }

  int(v: unknown, path: FieldPath, fallback: number, min = 1): number {
    if (v === undefined || v === null) return fallback;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= min) return v;
    this.fail(path, min === 1 ? "must be a positive integer" : `must be an integer of at least ${min}`);
    return fallback;
  }

  /** Seconds; YAML takes a number of seconds or `500ms`, `30s`, `10m`, `2h`, `7d`. */
  duration(v: unknown, path: FieldPath, fallback: number): number {
    if (v === undefined || v === null) return fallback;
    const s = parseDuration(v);
    if (s !== undefined) return s;
    this.fail(path, `must be a positive duration such as 30s, 10m, 2h, 7d or a number of seconds, got ${JSON.stringify(v)}`);
    return fallback;
  }

  /** Bytes; YAML takes a number of bytes or `512KiB`, `1MiB`, `1GiB`, `10MB`. */
  size(v: unknown, path: FieldPath, fallback: number): number {
    if (v === undefined || v === null) return fallback;
    const n = parseSize(v);
    if (n !== undefined) return n;
    this.fail(path, `must be a positive size such as 512KiB, 1MiB, 1GiB or a number of bytes, got ${JSON.stringify(v)}`);
    return fallback;
  }

  oneOf<T extends string>(v: unknown, path: FieldPath, allowed: readonly T[], fallback: T): T {
    if (v === undefined || v === null) return fallback;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    this.fail(path, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    return fallback;
  }

  /** A list of non-empty strings; a single string is taken as a list of one. */
  strList(v: unknown, path: FieldPath, fallback: readonly string[] = []): readonly string[] {
    if (v === undefined || v === null) return fallback;
    if (typeof v === "string" && v.length > 0) return [v];
    if (!Array.isArray(v)) {
      this.fail(path, "must be a list of strings");
      return fallback;
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x === "string" && x.length > 0) out.push(x);
      else this.fail([...path, i], "must be a non-empty string");
    });
    return out;
  }
}
