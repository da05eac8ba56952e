/**
 * The only module that imports `yaml`. Parses YAML keeping source positions, so every later
 * error can name the file, line and field path.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node } from "yaml";
import { ConfigError } from "../core/errors.js";

/** A path into a parsed document: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** A parsed YAML document: its plain value and a way to find the line of any field. */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** 1-based line of the node at `path` (or of its nearest existing parent). */
  lineOf(path: FieldPath): number | undefined;
  /** A ConfigError for the field at `path`, with file, line and dotted path. */
  error(path: FieldPath, reason: string): ConfigError;
}

/** Formats a field path the way errors show it: `reactor[2].sls[0]`, `beacons.service`. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}

/**
 * Parses one YAML document. Syntax errors throw a ConfigError naming file and line.
 * Duplicate keys are errors (YAML 1.2), as are multiple documents.
 */
export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const first = doc.errors[0];
  if (first) {
    const line = lines.linePos(first.pos[0]).line;
    throw new ConfigError({ file, ...(line !== undefined ? { line } : {}) }, `YAML syntax error: ${firstLine(first.message)}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const lineOf = (path: FieldPath): number | undefined => {
    let node: unknown = doc.contents;
    let best: number | undefined = posLine(node as Node | null, lines);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(key));
        if (!pair) break;
        best = posLine(pair.key as Node, lines) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number") {
        node = node.items[key];
        best = posLine(node as Node | null, lines) ?? best;
      } else break;
    }
    return best;
  };
  return {
    file,
    value,
    lineOf,
    error: (path, reason) => {
      const line = lineOf(path);
      return new ConfigError(
        { file, ...(line !== undefined ? { line } : {}), ...(path.length ? { path: formatPath(path) } : {}) },
        reason,
      );
    },
  };
}

function posLine(node: Node | null | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** Serialises a value as YAML (block style). */
export function toYaml(value: unknown): string {
  return stringify(value);
}

/** Serialises a value as one-line flow YAML, as Salt's `yaml` filter does for simple values. */
export function toFlowYaml(value: unknown): string {
  return stringify(value, { collectionStyle: "flow", lineWidth: 0 }).trimEnd();
}
