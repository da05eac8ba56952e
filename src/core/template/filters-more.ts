/**
 * More filters: Jinja2 builtins real formulas use (items, indent, title, center, format, batch,
 * truncate, wordcount, reverse, urlencode) and Salt's (yaml_encode, yaml_dquote, yaml_squote,
 * sequence, to_num, is_list, base64_*, md5/sha*, set operations, flatten).
 */
import { createHash } from "node:crypto";
import { EvalError, isMapping, iterate, pyEq, str } from "./values.js";
import { pyRepr } from "./pyrepr.js";

type Kw = Readonly<Record<string, unknown>>;
type FilterFn = (v: unknown, args: readonly unknown[], kw: Kw) => unknown;

const YAML_SPECIAL =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|)$/;

/** A string as one YAML scalar: plain when it reads back as the same string, else single-quoted. */
function yamlScalar(s: string): string {
  const plain =
    /^[A-Za-z_/.][A-Za-z0-9 _./@%+=-]*$/.test(s) &&
    !/ $/.test(s) &&
    !YAML_SPECIAL.test(s) &&
    !/^[-+]?(\d|\.\d)/.test(s);
  return plain ? s : squote(s);
}

const squote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const dquote = (s: string): string => JSON.stringify(s);

/** Salt's yaml_encode: one flow-YAML value. */
function yamlEncode(v: unknown): string {
  if (typeof v === "string") return yamlScalar(v);
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(yamlEncode).join(", ")}]`;
  if (isMapping(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${yamlScalar(k)}: ${yamlEncode(x)}`)
      .join(", ")}}`;
  return yamlScalar(str(v));
}

function hash(algo: string): FilterFn {
  return (v) => createHash(algo).update(str(v)).digest("hex");
}

function indent(v: unknown, [width = 4, first = false, blank = false]: readonly unknown[], kw: Kw): string {
  const w = kw.width ?? width;
  const pad = typeof w === "string" ? w : " ".repeat(Number(w));
  const lines = str(v).split("\n");
  const doFirst = (kw.first ?? first) === true;
  const doBlank = (kw.blank ?? blank) === true;
  return lines.map((l, i) => ((i > 0 || doFirst) && (doBlank || l !== "") ? pad + l : l)).join("\n");
}

function truncate(
  v: unknown,
  [length = 255, killwords = false, end = "...", leeway = 5]: readonly unknown[],
): string {
  const s = str(v);
  const n = Number(length);
  if (s.length <= n + Number(leeway)) return s;
  if (killwords) return s.slice(0, n - str(end).length) + str(end);
  const cut = s.slice(0, n - str(end).length);
  const sp = cut.lastIndexOf(" ");
  return (sp > 0 ? cut.slice(0, sp) : cut) + str(end);
}

function center(v: unknown, [width = 80]: readonly unknown[]): string {
  const s = str(v);
  const total = Number(width) - s.length;
  if (total <= 0) return s;
  // Python's str.center puts the extra space on the right for odd totals when the length is even.
  const left = Math.floor(total / 2) + (total % 2 && s.length % 2 ? 1 : 0);
  return " ".repeat(left) + s + " ".repeat(total - left);
}

function batch(v: unknown, [size, fill]: readonly unknown[]): unknown[][] {
  const n = Number(size);
  if (!(n > 0)) throw new EvalError("batch() needs a positive size");
  const items = iterate(v);
  const out: unknown[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  const last = out[out.length - 1];
  if (last && fill !== undefined) while (last.length < n) last.push(fill);
  return out;
}

function pyFormat(v: unknown, args: readonly unknown[]): string {
  let i = 0;
  return str(v).replace(/%([sdri%])/g, (_m, c: string) => {
    if (c === "%") return "%";
    const a = args[i++];
    if (c === "r") return pyRepr(a);
    if (c === "d" || c === "i") return String(Math.trunc(Number(a)));
    return str(a);
  });
}

const uniq = (xs: readonly unknown[]): unknown[] =>
  xs.filter((x, i) => xs.findIndex((y) => pyEq(x, y)) === i);
const has = (xs: readonly unknown[], x: unknown): boolean => xs.some((y) => pyEq(x, y));

function flatten(v: unknown, levels?: number): unknown[] {
  const out: unknown[] = [];
  for (const x of iterate(v)) {
    if (Array.isArray(x) && (levels === undefined || levels > 0))
      out.push(...flatten(x, levels === undefined ? undefined : levels - 1));
    else if (x !== null) out.push(x);
  }
  return out;
}

export const MORE_FILTERS: ReadonlyMap<string, FilterFn> = new Map<string, FilterFn>([
  ["items", (v) => (isMapping(v) ? Object.keys(v).map((k) => [k, v[k]]) : iterate(v))],
  ["indent", indent],
  [
    "title",
    (v) =>
      str(v).replace(/[A-Za-z]+('[A-Za-z]+)?/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  ],
  ["center", center],
  ["format", pyFormat],
  ["batch", batch],
  ["truncate", truncate],
  ["wordcount", (v) => (str(v).match(/\w+/g) ?? []).length],
  ["reverse", (v) => (typeof v === "string" ? [...v].reverse().join("") : [...iterate(v)].reverse())],
  ["urlencode", (v) => encodeURIComponent(str(v)).replace(/%2F/g, "/")],
  ["yaml_encode", (v) => yamlEncode(v)],
  ["yaml_dquote", (v) => dquote(str(v))],
  ["yaml_squote", (v) => squote(str(v))],
  ["sequence", (v) => (Array.isArray(v) ? v : [v])],
  [
    "to_num",
    (v) =>
      typeof v === "number"
        ? v
        : /^\s*[-+]?\d+\s*$/.test(str(v))
          ? parseInt(str(v), 10)
          : Number.isNaN(Number(v))
            ? v
            : Number(v),
  ],
  ["is_list", (v) => Array.isArray(v)],
  ["base64_encode", (v) => Buffer.from(str(v)).toString("base64")],
  ["base64_decode", (v) => Buffer.from(str(v), "base64").toString("utf8")],
  ["md5", hash("md5")],
  ["sha1", hash("sha1")],
  ["sha256", hash("sha256")],
  ["sha512", hash("sha512")],
  ["union", (v, [o]) => uniq([...iterate(v), ...iterate(o)])],
  ["intersect", (v, [o]) => uniq(iterate(v).filter((x) => has(iterate(o), x)))],
  ["difference", (v, [o]) => uniq(iterate(v).filter((x) => !has(iterate(o), x)))],
  [
    "symmetric_difference",
    (v, [o]) =>
      uniq([
        ...iterate(v).filter((x) => !has(iterate(o), x)),
        ...iterate(o).filter((x) => !has(iterate(v), x)),
      ]),
  ],
  ["flatten", (v, [levels]) => flatten(v, typeof levels === "number" ? levels : undefined)],
]);
