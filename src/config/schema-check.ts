/**
 * Checks a parsed YAML file against its JSON Schema (schemas/*.schema.json, the same files editors
 * use through `# yaml-language-server: $schema=...`) and turns ajv's errors into ConfigErrors that
 * name file:line and the field path, like the compile step does. The compile step stays the
 * authority (it checks what a schema cannot: files exist, globs and templates compile); this check
 * proves the schemas and the compilers agree, and gives editors' errors the same words.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ConfigErrors, type ConfigError } from "../core/errors.js";
import { didYouMean } from "./reactor-checks.js";
import type { FieldPath, YamlSource } from "./yaml.js";

/** The schemas shipped in `schemas/`. */
export const SCHEMA_NAMES = ["reactor", "agent", "beacons"] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

const compiled = new Map<SchemaName, ValidateFunction>();
let ajv: Ajv | undefined;

/** The folder holding the schemas: `schemas/` at the package root, from src/ or from dist/src/. */
export function schemasDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [join(here, "..", ".."), join(here, "..", "..", "..")]) {
    const dir = join(up, "schemas");
    try {
      readFileSync(join(dir, "reactor.schema.json"));
      return dir;
    } catch {
      // not here
    }
  }
  return join(here, "..", "..", "schemas");
}

/** The JSON Schema of one file kind, as parsed JSON. */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(schemasDir(), `${name}.schema.json`), "utf8")) as Record<string, unknown>;
}

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    ajv ??= withMessages(new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true }));
    v = ajv.compile(loadSchema(name));
    compiled.set(name, v);
  }
  return v;
}

/** Our annotation: `x-message` on a union (anyOf) is the one message shown when none of its branches fits. */
export const MESSAGE_KEYWORD = "x-message";

/** Registers `x-message` (an annotation: it validates nothing) so that strict mode accepts it. */
export function withMessages(a: Ajv): Ajv {
  a.addKeyword({ keyword: MESSAGE_KEYWORD, schemaType: "string" });
  return a;
}

/** Every schema problem of `src`, each a ConfigError with file:line and field path; [] when valid. */
export function checkSchema(name: SchemaName, src: YamlSource): ConfigError[] {
  const validate = validator(name);
  if (validate(src.value ?? null)) return [];
  return describeErrors(validate.errors ?? [], src);
}

/** Throws ConfigErrors listing every schema problem of `src`. */
export function assertSchema(name: SchemaName, src: YamlSource): void {
  const errors = checkSchema(name, src);
  if (errors.length) throw new ConfigErrors(errors);
}

interface Problem {
  readonly path: FieldPath;
  readonly reason: string;
  /** This reason replaces the others at its path (a union's `x-message`). */
  readonly final?: boolean;
}

/** ajv errors -> one ConfigError per field, the most specific first found, in file order. */
function describeErrors(errors: readonly ErrorObject[], src: YamlSource): ConfigError[] {
  const kept = errors.filter((e) => e.keyword !== "if");
  const problems = kept.map((e) => toProblem(e, src.value));
  const key = (p: FieldPath) => JSON.stringify(p);
  const isUnder = (deep: FieldPath, p: FieldPath) => deep.length > p.length && p.every((x, i) => deep[i] === x);
  const unions = new Set(problems.filter((_, i) => ["anyOf", "oneOf"].includes(kept[i]!.keyword)).map((p) => key(p.path)));
  // A union (anyOf) whose branch went deeper: the deeper errors say what is wrong.
  const specific = problems.filter((p) => !(unions.has(key(p.path)) && problems.some((q) => isUnder(q.path, p.path))));
  const byPath = new Map<string, { path: FieldPath; reasons: string[]; final: boolean }>();
  for (const p of specific) {
    const entry = byPath.get(key(p.path)) ?? { path: p.path, reasons: [], final: false };
    if (entry.final) continue;
    if (p.final) Object.assign(entry, { reasons: [p.reason], final: true });
    else if (p.reason && !entry.reasons.includes(p.reason)) entry.reasons.push(p.reason);
    byPath.set(key(p.path), entry);
  }
  const out = [...byPath.values()].map((e) => src.error(e.path, joinReasons(e.reasons)));
  return out.sort((a, b) => (a.location.line ?? 0) - (b.location.line ?? 0));
}

/** `must be number` + `must be string` -> `must be number or string`; other reasons joined with `, or `. */
function joinReasons(reasons: readonly string[]): string {
  const types = reasons.filter((r) => r.startsWith("must be of type ")).map((r) => r.slice("must be of type ".length));
  const rest = reasons.filter((r) => r && !r.startsWith("must be of type "));
  const parts = [...(types.length ? [`must be of type ${types.join(" or ")}`] : []), ...rest];
  return parts.join(", or ") || "is not valid";
}

function toProblem(e: ErrorObject, root: unknown): Problem {
  const path = pointerToPath(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const name = String(p["additionalProperty"]);
      const known = Object.keys(((e.parentSchema ?? {}) as { properties?: object }).properties ?? {});
      const hint = didYouMean(name, known);
      return { path: [...path, name], reason: hint ? `is not a known field (did you mean ${hint}?)` : `is not a known field${known.length ? ` (known: ${known.join(", ")})` : ""}` };
    }
    case "required":
      return { path, reason: `needs \`${String(p["missingProperty"])}:\`` };
    case "enum":
      return { path, reason: `must be one of ${(p["allowedValues"] as unknown[]).map(String).join(", ")}, got ${JSON.stringify(e.data)}` };
    case "type":
      return { path, reason: `must be of type ${[p["type"]].flat().map(String).join(" or ")}` };
    case "anyOf":
    case "oneOf": {
      // The union's own message when it has one; else its branches' errors at this path say more.
      const message = (e.parentSchema as Record<string, unknown> | undefined)?.[MESSAGE_KEYWORD];
      return { path, reason: typeof message === "string" ? message : "", ...(typeof message === "string" ? { final: true } : {}) };
    }
    default:
      return { path, reason: e.message ?? `fails ${e.keyword}` };
  }
}

/** `/reactor/0/tag` -> `["reactor", 0, "tag"]` (list indexes as numbers, by the value's shape). */
function pointerToPath(pointer: string, root: unknown): FieldPath {
  if (pointer === "") return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      const i = Number(seg);
      out.push(i);
      node = node[i];
    } else {
      out.push(seg);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
