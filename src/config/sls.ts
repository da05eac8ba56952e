/**
 * Renders reactor and orchestration SLS files: template -> YAML -> value, ending with the values
 * Salt ends with (Jinja prints Python's str(); Salt's YAML 1.1 loader reads the text), except that
 * **event data is data, never template source or YAML structure** (DESIGN.md 3.3, docs/reactor.md).
 *
 * Salt renders text and then parses it as YAML, so a value holding `: `, `- `, a newline or a quote
 * can reshape the document. Here every `{{ }}` output is first replaced by a sentinel token (a random
 * per-process nonce and the output's index, letters and digits only, so it is a plain YAML scalar
 * anywhere; the nonce never leaves this module, so data cannot forge one); the YAML is parsed with
 * Salt's scalar rules (yaml11.ts); then each sentinel is swapped back:
 * - a plain scalar holding sentinels gets its text (each output as Python's str()) and, when that
 *   text is one plain scalar for PyYAML, the type Salt's loader gives it (`True`, `5`, `0644` -> 644,
 *   `yes` -> true, `None` -> 'None'); text that YAML would read as more than a scalar stays a string;
 * - a plain scalar that is exactly one list or dict output is that collection, as Salt reads its
 *   repr() back (None -> 'None'; strings keep their exact text); a `json`/`yaml` filter output is
 *   the value itself (Salt reads the JSON back);
 * - keys, quoted and block scalars get the text.
 * Data text never passes through the YAML parser.
 */
import { randomBytes } from "node:crypto";
import { isCollection, isScalar, LineCounter, parseDocument, visit, type Document, type DocumentOptions, type ParseOptions, type Scalar, type SchemaOptions } from "yaml";
import { ConfigError, TemplateError, truncate } from "../core/errors.js";
import { compileTemplate, defaultOutput, pyNumber, type OutputHook, type Template } from "../core/template/index.js";
import { isPlainText, resolvePlain, SALT_YAML_TAGS } from "./yaml11.js";
import { toFlowYaml } from "./yaml.js";

/** A compiled SLS file. */
export interface CompiledSls {
  /** The file name used in error messages. */
  readonly file: string;
  /**
   * Renders with `context` (`tag`, `data`, helpers) and parses the result. Returns the parsed
   * value, or null when the render is empty (only whitespace and comments). Throws TemplateError.
   */
  render(context: Readonly<Record<string, unknown>>): unknown;
}

/** Salt's loader: YAML 1.1 scalars (yaml11.ts), merge keys, duplicate keys an error. */
const SALT_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  prettyErrors: false,
  uniqueKeys: true,
  merge: true,
  schema: "failsafe",
  customTags: [...SALT_YAML_TAGS],
};

const templates = new WeakMap<CompiledSls, Template>();

/** Parsed YAML of rendered texts, by text; never handed out, only cloned. */
type ParseCache = Map<string, { readonly doc: Document; readonly lines: LineCounter }>;
/** Distinct rendered texts kept per file (a file has few control-flow paths; the oldest goes first). */
const PARSE_CACHE_SIZE = 32;

/** Compiles an SLS file's template; syntax errors throw a TemplateError with file and line. */
export function compileSls(source: string, file: string): CompiledSls {
  const template = compileTemplate(source, file);
  const cache: ParseCache = new Map();
  const compiled: CompiledSls = { file, render: (context) => renderSls(template, context, cache) };
  templates.set(compiled, template);
  return compiled;
}

/** The plain rendered text of an SLS file, as Salt would produce it (for `reactor test --explain`). */
export function renderTemplateText(compiled: CompiledSls, context: Readonly<Record<string, unknown>>): string {
  const template = templates.get(compiled);
  if (!template) throw new TypeError("renderTemplateText needs a CompiledSls made by compileSls");
  return template.render(context, textOutput);
}

/** Output as text: Python's str(); `json`/`tojson` as JSON; `yaml` as one-line flow YAML. */
export const textOutput: OutputHook = (value, filtered) => (filtered === "yaml" ? toFlowYaml(value) : defaultOutput(value, filtered));

interface Output {
  readonly value: unknown;
  readonly filtered: "json" | "yaml" | null;
}

/**
 * The sentinel nonce: random per process and never printed. One nonce (not one per render) lets V8
 * compile the sentinel patterns once; they were a fifth of the service's CPU when built per render.
 */
const NONCE = randomBytes(8).toString("hex");
const SENTINEL = new RegExp(`RXN${NONCE}I(\\d+)E`, "g");
const SENTINEL_WHOLE = new RegExp(`^RXN${NONCE}I(\\d+)E$`);
const SENTINEL_PREFIX = `RXN${NONCE}I`;

/**
 * The rendered text holds sentinels numbered by output position, never values, so events that take
 * the same path through the template render the same text: its parse is cached, and each render
 * substitutes into a clone of it.
 */
function renderSls(template: Template, context: Readonly<Record<string, unknown>>, cache: ParseCache): unknown {
  const outputs: Output[] = [];
  const text = template.render(context, (value, filtered) => {
    outputs.push({ value, filtered });
    return `${SENTINEL_PREFIX}${outputs.length - 1}E`;
  });
  const sub = new Substitution(outputs);
  let parsed = cache.get(text);
  if (!parsed) {
    const lines = new LineCounter();
    const fresh = parseDocument(text, { lineCounter: lines, ...SALT_YAML });
    const first = fresh.errors[0];
    if (first) {
      const line = errorLine(text, lines.linePos(first.pos[0]).line);
      throw renderedError(template.file, text, line, `YAML syntax error: ${first.message.split("\n")[0] ?? ""}`, sub);
    }
    parsed = { doc: fresh, lines };
    if (cache.size >= PARSE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(text, parsed);
  }
  const doc = parsed.doc.clone();
  const lines = parsed.lines;
  substitute(doc, sub);
  checkKeys(doc, sub, lines, text, template.file);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  return value ?? null;
}

/** Swaps sentinels back for the outputs they stand for. */
class Substitution {
  constructor(private readonly outputs: readonly Output[]) {}

  /** The output a string stands for if it is exactly one sentinel. */
  exact(s: string): Output | undefined {
    const m = SENTINEL_WHOLE.exec(s);
    return m ? this.outputs[Number(m[1])] : undefined;
  }

  /** Whether `s` holds a sentinel. */
  has(s: string): boolean {
    return s.includes(SENTINEL_PREFIX);
  }

  /** `s` with every sentinel replaced by its output's text (one pass: output text is never rescanned). */
  text(s: string): string {
    return s.replace(SENTINEL, (_m, i: string) => {
      const o = this.outputs[Number(i)];
      return o ? outputText(o) : _m;
    });
  }

  /** The value of a plain scalar holding sentinels, as Salt ends with it (see the file's comment). */
  plain(s: string, flow: boolean): unknown {
    const exact = this.exact(s);
    if (exact?.filtered) return exact.filtered === "json" ? jsonData(exact.value) : cloneData(exact.value);
    if (exact && exact.value !== null && typeof exact.value === "object") return saltData(exact.value);
    const text = this.text(s);
    const trimmed = text.replace(/^ +| +$/g, "");
    return isPlainText(trimmed, flow) ? resolvePlain(trimmed) : text;
  }
}

function outputText(o: Output): string {
  return o.filtered === "yaml" ? toFlowYaml(o.value) : defaultOutput(o.value, o.filtered);
}

function substitute(doc: Document, sub: Substitution): void {
  visit(doc, {
    Scalar(key, node, path) {
      if (typeof node.value !== "string" || !sub.has(node.value)) return;
      if (key !== "key" && isPlainUntagged(node)) {
        const parent = path.findLast((p) => isCollection(p));
        node.value = sub.plain(node.value, isCollection(parent) && parent.flow === true);
      } else node.value = sub.text(node.value);
    },
  });
}

function isPlainUntagged(node: Scalar): boolean {
  return (node.type === "PLAIN" || node.type === undefined) && !node.tag;
}

/** Keys made of template outputs must still be unique after substitution. */
function checkKeys(doc: Document, sub: Substitution, lines: LineCounter, text: string, file: string): void {
  visit(doc, {
    Map(_key, node) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const k = String(pair.key.value);
        if (seen.has(k)) {
          const line = pair.key.range ? lines.linePos(pair.key.range[0]).line : 1;
          throw renderedError(file, text, line, `duplicate key ${JSON.stringify(truncate(k, 60))} after inserting template values`, sub);
        }
        seen.add(k);
      }
    },
  });
}

/** The error's line, or the last non-blank line before it (errors at the end point past the text). */
function errorLine(text: string, line: number): number {
  const all = text.split("\n");
  let l = Math.min(line, all.length);
  while (l > 1 && !all[l - 1]?.trim()) l--;
  return l;
}

/** A TemplateError about the rendered text: its line and an excerpt, with values put back. */
function renderedError(file: string, text: string, line: number, reason: string, sub: Substitution): TemplateError {
  const excerpt = truncate(sub.text(text.split("\n")[line - 1] ?? "").trim(), 80);
  return new TemplateError({ file }, `rendered output line ${line}: ${reason}: ${JSON.stringify(excerpt)}`);
}

/**
 * A list or dict as Salt reads its repr() back: None becomes the string 'None', floats are read
 * from Python's text (1e+16 stays the string '1e+16'), strings keep their exact text (Salt's
 * YAML would re-read repr's escapes). A copy: results never share the event's data.
 */
function saltData(v: unknown): unknown {
  if (v === null || v === undefined) return "None";
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : resolvePlain(pyNumber(v));
  if (Array.isArray(v)) return v.map(saltData);
  if (typeof v !== "object") return v;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: saltData(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A `json` output as Salt reads the JSON back: a copy, floats read from Python's text of them. */
function jsonData(v: unknown): unknown {
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : resolvePlain(pyNumber(v));
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(jsonData);
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: jsonData(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A copy of lists and plain objects, so results never share (or freeze) the event's data. */
function cloneData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneData);
  if (v === null || typeof v !== "object") return v;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: cloneData(x), enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Salt's YAML loader over rendered text (state and pillar SLS files, which Salt renders as text
 * and then parses: their template output is YAML source by design). Errors are ConfigErrors
 * naming the file and line of the rendered text; an empty document is null.
 */
export function loadSaltYaml(text: string, file: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, ...SALT_YAML });
  const first = doc.errors[0];
  if (first) {
    const line = errorLine(text, lines.linePos(first.pos[0]).line);
    throw new ConfigError({ file, line }, `YAML syntax error: ${first.message.split("\n")[0] ?? ""}`);
  }
  return doc.toJS({ maxAliasCount: 100 }) ?? null;
}
