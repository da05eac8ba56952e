/**
 * The reactor map (DESIGN.md 3.2): Salt's form (`- 'glob': [files]`) and the rich form
 * (`- tag:`, `when:`, `sls:`, `glob:`, `throttle:`, `name:`), compiled once: globs, conditions,
 * SLS files (read, expanded when they are filesystem globs, and compiled) and throttle keys.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, posix, relative, sep } from "node:path";
import { ConfigError, ReactorError, TemplateError, errorMessage } from "../core/errors.js";
import { compileCondition, type CompiledCondition } from "../core/conditions/index.js";
import { compileFileGlob, compileTagGlob, hasGlobMagic, GLOB_MODES, type GlobMode, type TagGlob } from "../core/glob/index.js";
import { compileTemplate } from "../core/template/index.js";
import { compileSls, type CompiledSls } from "./sls.js";
import type { FieldChecker } from "./reactor-checks.js";
import { isMap, saltPath, saltUrlEnv } from "../core/index.js";
import { formatPath, type FieldPath } from "./yaml.js";

/** One SLS file of an entry, compiled. */
export interface SlsFile {
  /** The path as written in the map, or (for a filesystem glob) the matched file relative to the map's folder. */
  readonly path: string;
  readonly absPath: string;
  readonly sls: CompiledSls;
}

/** One `sls:` item as written, with the files it names (several for a filesystem glob). */
export interface SlsRef {
  readonly written: string;
  readonly files: readonly SlsFile[];
}

/** Storm control of an entry: at most `max` reactions per `per` seconds for each rendered key. */
export interface Throttle {
  /** The key template as written. */
  readonly key: string;
  /** Renders the key for an event context (`tag`, `data`). */
  renderKey(context: Readonly<Record<string, unknown>>): string;
  readonly max: number;
  /** Window in seconds. */
  readonly per: number;
}

/** One compiled map entry. */
export interface ReactorMapEntry {
  /** Position in the map (0-based); matches are reported in this order. */
  readonly index: number;
  /** `name:`, or the tag glob. */
  readonly name: string;
  /** The tag glob as written. */
  readonly tag: string;
  readonly glob: TagGlob;
  readonly when?: CompiledCondition;
  readonly sls: readonly SlsRef[];
  readonly throttle?: Throttle;
  /** The file and line of the entry, for reports. */
  readonly file: string;
  readonly line?: number;
}

const RICH_KEYS = ["tag", "when", "sls", "glob", "throttle", "name"] as const;
const THROTTLE_KEYS = ["key", "max", "per"] as const;

/**
 * Compiles the list under `reactor:` (at `base`) into entries; problems go to `c.errors`.
 * `saltRoots` are the base environment's `file_roots`: `salt://x.sls` is the first of them holding
 * `x.sls`, as Salt's master resolves reactor files.
 */
export function compileReactorMap(raw: unknown, base: FieldPath, dir: string, c: FieldChecker, saltRoots: readonly string[] = []): ReactorMapEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    c.fail(base, "must be a list of entries (or the path of a map file)");
    return [];
  }
  const cache = new Map<string, CompiledSls | null>();
  const entries: ReactorMapEntry[] = [];
  raw.forEach((item: unknown, i) => {
    const entry = compileEntry(item, [...base, i], i, { dir, saltRoots }, c, cache);
    if (entry) entries.push(entry);
  });
  return entries;
}

function compileEntry(
  item: unknown,
  path: FieldPath,
  index: number,
  dir: MapDirs,
  c: FieldChecker,
  cache: Map<string, CompiledSls | null>,
): ReactorMapEntry | undefined {
  if (!isMap(item)) {
    c.fail(path, "must be a map: `'<tag glob>': [sls files]` or `tag: <glob>` with `sls:`");
    return undefined;
  }
  const line = c.src.lineOf(path);
  const at = { file: c.src.file, ...(line !== undefined ? { line } : {}) };
  if (!("tag" in item)) {
    const keys = Object.keys(item);
    if (keys.length !== 1) {
      c.fail(path, `must have \`tag:\` or exactly one key (Salt's form \`'<tag glob>': [sls files]\`), found ${keys.length} keys`);
      return undefined;
    }
    const tag = keys[0]!;
    const glob = tagGlob(tag, "fnmatch", path, c);
    const sls = slsRefs(item[tag], [...path, tag], dir, c, cache);
    return glob && { index, name: tag, tag, glob, sls, ...at };
  }
  c.unknownKeys(item, path, RICH_KEYS);
  const tag = item["tag"];
  if (typeof tag !== "string" || tag.length === 0) {
    c.fail([...path, "tag"], "must be a non-empty string (a tag glob)");
    return undefined;
  }
  const mode = c.oneOf(item["glob"], [...path, "glob"], GLOB_MODES, "fnmatch");
  const glob = tagGlob(tag, mode, [...path, "tag"], c);
  const when = condition(item["when"], [...path, "when"], c);
  const sls = "sls" in item ? slsRefs(item["sls"], [...path, "sls"], dir, c, cache) : (c.fail(path, "needs `sls:` (the reactor files to render)"), []);
  const throttle = compileThrottle(item["throttle"], [...path, "throttle"], c);
  const name = c.str(item["name"], [...path, "name"], tag);
  if (!glob) return undefined;
  return { index, name, tag, glob, sls, ...at, ...(when ? { when } : {}), ...(throttle ? { throttle } : {}) };
}

function tagGlob(pattern: string, mode: GlobMode, path: FieldPath, c: FieldChecker): TagGlob | undefined {
  try {
    return compileTagGlob(pattern, mode);
  } catch (err) {
    c.fail(path, `is not a valid ${mode} glob: ${errorMessage(err)}`);
    return undefined;
  }
}

function condition(raw: unknown, path: FieldPath, c: FieldChecker): CompiledCondition | undefined {
  if (raw === undefined || raw === null) return undefined;
  try {
    return compileCondition(raw);
  } catch (err) {
    c.fail(path, `is not a valid condition: ${errorMessage(err)}`);
    return undefined;
  }
}

function compileThrottle(raw: unknown, path: FieldPath, c: FieldChecker): Throttle | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isMap(raw)) {
    c.fail(path, "must be a map with key, max and per");
    return undefined;
  }
  c.unknownKeys(raw, path, THROTTLE_KEYS);
  for (const k of THROTTLE_KEYS) if (!(k in raw)) c.fail(path, `needs \`${k}:\``);
  const key = c.str(raw["key"], [...path, "key"], "");
  const max = c.int(raw["max"], [...path, "max"], 1);
  const per = c.duration(raw["per"], [...path, "per"], 60);
  let renderKey: Throttle["renderKey"] = () => key;
  try {
    const tpl = compileTemplate(key, `${c.src.file} ${formatPath([...path, "key"])}`);
    renderKey = (context) => String(tpl.render(context));
  } catch (err) {
    c.fail([...path, "key"], `is not a valid template: ${errorMessage(err)}`);
  }
  return { key, renderKey, max, per };
}

/** Where relative SLS paths and `salt://` paths of a map resolve. */
interface MapDirs {
  readonly dir: string;
  readonly saltRoots: readonly string[];
}

function slsRefs(raw: unknown, path: FieldPath, dirs: MapDirs, c: FieldChecker, cache: Map<string, CompiledSls | null>): SlsRef[] {
  const { dir } = dirs;
  const written = c.strList(raw, path);
  if (Array.isArray(raw) && raw.length === 0) c.fail(path, "must name at least one SLS file");
  const out: SlsRef[] = [];
  written.forEach((w, j) => {
    const p = typeof raw === "string" ? path : [...path, j];
    const salt = w.startsWith("salt://") ? saltFile(w, dirs.saltRoots) : undefined;
    if (typeof salt === "string") {
      c.fail(p, salt);
      return;
    }
    const files = salt ?? expand(w, dir);
    if (files.length === 0) {
      const reason = salt
        ? dirs.saltRoots.length
          ? `names a file that does not exist: ${JSON.stringify(w)} (searched file_roots base: ${dirs.saltRoots.join(", ")})`
          : `uses ${JSON.stringify(w)}: file_roots has no base environment to resolve salt:// paths`
        : hasGlobMagic(w)
          ? `matches no file: ${JSON.stringify(w)}`
          : `names a file that does not exist: ${JSON.stringify(w)}`;
      if (c.missingSls === "defer") out.push({ written: w, files: [missingFile(w, salt || isAbsolute(w) ? w : join(dir, w), c.src.error(p, reason))] });
      else c.fail(p, reason);
      return;
    }
    const compiled: SlsFile[] = [];
    for (const f of files) {
      const sls = loadSls(f.absPath, f.path, p, c, cache);
      if (sls) compiled.push({ ...f, sls });
    }
    out.push({ written: w, files: compiled });
  });
  return out;
}

/** The file `salt://x` names in the base roots (first root wins: [] when none has it), or why it cannot. */
function saltFile(written: string, roots: readonly string[]): { path: string; absPath: string }[] | string {
  let rel: string;
  try {
    rel = saltPath(written);
  } catch (err) {
    return errorMessage(err);
  }
  const env = saltUrlEnv(written);
  if (env !== undefined && env !== "base") return `uses ${JSON.stringify(written)}: reactor files come from the base environment of file_roots`;
  for (const root of roots) {
    const abs = join(root, rel);
    if (isFile(abs)) return [{ path: written, absPath: abs }];
  }
  return [];
}

/**
 * A stand-in for an SLS path that names no file (`missingSls: defer`): it renders to an error
 * naming the file, as Salt reports "File missing or not found" for the event that needs it.
 */
function missingFile(written: string, absPath: string, where: ConfigError): SlsFile {
  const at = `${where.location.file}${where.location.line !== undefined ? `:${where.location.line}` : ""}`;
  const reason = `file missing or not found (named at ${at} ${where.location.path ?? ""})`.replace(" )", ")");
  const sls: CompiledSls = {
    file: written,
    render: () => {
      throw new ConfigError({ file: written }, reason);
    },
  };
  return { path: written, absPath, sls };
}

function loadSls(absPath: string, shown: string, path: FieldPath, c: FieldChecker, cache: Map<string, CompiledSls | null>): CompiledSls | undefined {
  if (cache.has(absPath)) return cache.get(absPath) ?? undefined;
  let result: CompiledSls | null = null;
  try {
    result = compileSls(readFileSync(absPath, "utf8"), shown);
  } catch (err) {
    if (err instanceof ConfigError) c.errors.push(err);
    else if (err instanceof TemplateError) c.errors.push(new ConfigError(err.location, err.reason, { cause: err }));
    else if (err instanceof ReactorError) c.errors.push(new ConfigError({ file: shown }, err.message, { cause: err }));
    else c.fail(path, `cannot read ${JSON.stringify(shown)}: ${errorMessage(err)}`);
  }
  cache.set(absPath, result);
  return result ?? undefined;
}

/** The files a written SLS path names: itself if it exists, or the matches of a filesystem glob, sorted. */
function expand(written: string, dir: string): { path: string; absPath: string }[] {
  const abs = isAbsolute(written) ? written : join(dir, written);
  if (!hasGlobMagic(written)) return isFile(abs) ? [{ path: written, absPath: abs }] : [];
  const pattern = abs.split(sep).join("/");
  const segments = pattern.split("/");
  const firstMagic = segments.findIndex((s) => hasGlobMagic(s));
  const root = segments.slice(0, firstMagic).join("/") || "/";
  const depth = segments.includes("**") ? Infinity : segments.length - firstMagic;
  const match = compileFileGlob(pattern);
  return walk(root, depth)
    .filter((f) => match(f))
    .sort()
    .map((f) => ({ path: isAbsolute(written) ? f : posix.normalize(relative(dir, f).split(sep).join("/")), absPath: f }));
}

function walk(dir: string, depth: number): string[] {
  if (depth <= 0) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const p = `${dir === "/" ? "" : dir}/${n}`;
    if (isFile(p)) out.push(p);
    else if (isDir(p)) out.push(...walk(p, depth - 1));
  }
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
