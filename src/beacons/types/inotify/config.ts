/** Options of the `inotify` beacon (Salt's schema: `files: {<path>: {mask, recurse, auto_add, exclude}}`). */
import { isAbsolute } from "node:path";
import type { FieldPath } from "../../../config/index.js";
import { OptionProblem, type Fields } from "../../fields.js";

/** Mask names accepted (Salt's, lower case, without `IN_`), and the change names they produce. */
export const MASKS = {
  create: "IN_CREATE",
  delete: "IN_DELETE",
  modify: "IN_MODIFY",
  close_write: "IN_CLOSE_WRITE",
  attrib: "IN_ATTRIB",
  moved_to: "IN_MOVED_TO",
  moved_from: "IN_MOVED_FROM",
  delete_self: "IN_DELETE_SELF",
} as const;
export type MaskName = keyof typeof MASKS;
/** Salt's default mask. */
export const DEFAULT_MASK: readonly MaskName[] = ["create", "delete", "modify"];
/** Masks that fs.watch cannot observe. */
const UNSUPPORTED = ["access", "open", "close_nowrite", "move_self", "all_events"];

/** One exclude: a path prefix, or a regex (`- /var/tmp/.*\.swp$: {regex: true}`). */
export type Exclude = { readonly prefix: string } | { readonly regex: RegExp };

export interface WatchedPath {
  readonly path: string;
  readonly mask: ReadonlySet<MaskName>;
  /** Watch subdirectories too. Default false. */
  readonly recurse: boolean;
  /** Watch directories created later (with recurse). Default false. */
  readonly autoAdd: boolean;
  readonly exclude: readonly Exclude[];
}

export interface InotifyConfig {
  readonly files: readonly WatchedPath[];
}

export function parseInotify(f: Fields): InotifyConfig {
  const files = f.requiredMap("files");
  return { files: files.keys().map((path) => parseWatch(files, path)) };
}

function parseWatch(files: Fields, path: string): WatchedPath {
  if (!isAbsolute(path)) files.fail(path, "must be an absolute path");
  const w = files.map(path);
  w.onlyKeys(["mask", "recurse", "auto_add", "exclude"]);
  return {
    path: path.length > 1 ? path.replace(/\/+$/, "") : path,
    mask: new Set(parseMask(w)),
    recurse: w.bool("recurse", false),
    autoAdd: w.bool("auto_add", false),
    exclude: parseExcludes(w),
  };
}

function parseMask(w: Fields): MaskName[] {
  if (!w.has("mask")) return [...DEFAULT_MASK];
  const out: MaskName[] = [];
  w.strings("mask").forEach((raw, i) => {
    const m = raw.toLowerCase().replace(/^in_/, "");
    const at: FieldPath = [...w.pathOf("mask"), i];
    if (m === "move") out.push("moved_to", "moved_from");
    else if (m === "close") out.push("close_write");
    else if (Object.hasOwn(MASKS, m)) out.push(m as MaskName);
    else if (UNSUPPORTED.includes(m)) throwAt(w, at, `"${raw}" cannot be watched here (fs.watch sees create, delete, modify, attrib, move)`);
    else throwAt(w, at, `is not an inotify mask: "${raw}"`);
  });
  return out;
}

function parseExcludes(w: Fields): Exclude[] {
  if (!w.has("exclude")) return [];
  const list = w.get("exclude");
  if (!Array.isArray(list)) w.fail("exclude", "must be a list of paths");
  return list.map((item: unknown, i): Exclude => {
    if (typeof item === "string") return { prefix: item };
    const entry = item !== null && typeof item === "object" ? Object.entries(item) : [];
    const [p, opts] = entry[0] ?? [];
    if (entry.length !== 1 || typeof p !== "string") throwAt(w, [...w.pathOf("exclude"), i], "must be a path or {<regex>: {regex: true}}");
    const isRegex = opts !== null && typeof opts === "object" && (opts as Record<string, unknown>)["regex"] === true;
    if (!isRegex) return { prefix: p };
    try {
      return { regex: new RegExp(p) };
    } catch (err) {
      return throwAt(w, [...w.pathOf("exclude"), i, p], `is not a valid regex: ${(err as Error).message}`);
    }
  });
}

function throwAt(_w: Fields, path: FieldPath, reason: string): never {
  throw new OptionProblem(path, reason);
}
