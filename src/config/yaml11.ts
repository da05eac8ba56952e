/**
 * Plain scalars as Salt's YAML loader reads them (salt/utils/yamlloader.py: PyYAML's SafeLoader,
 * YAML 1.1, with Salt's changes). PyYAML's implicit resolvers, tried in its order for the first
 * character: `yes`/`no`/`on`/`off`/`true`/`false` in three casings are booleans (`y`, `n` are not);
 * ints in base 2, 8 (`0644`), 10, 16 and 60 (`1:30` is 90); floats need a dot (`1e3` is a string,
 * `1.0e+3` a float); `~`, `null` and the empty scalar are null; timestamps stay strings (Salt's
 * loader keeps their text). Salt's change to ints: leading zeros are stripped before PyYAML
 * reads the number, so `0644` is 644 and `mode: 0644` means what it says (`-0644` and `+0644`
 * keep PyYAML's octal, as in Salt). No module here imports `yaml`: sls.ts hands these tags to it.
 */

/** A scalar tag in the shape the `yaml` package's `customTags` takes. */
export interface PlainTag {
  readonly tag: string;
  readonly default: true;
  readonly test: RegExp;
  resolve(text: string): unknown;
}

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

const TRUE = new Set(["yes", "true", "on"]);

function base60(text: string): number {
  return text.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** PyYAML's construct_yaml_int after Salt's construct_scalar. */
function toInt(text: string): number {
  let v = text;
  if (v.startsWith("0") && !v.startsWith("0b") && !v.startsWith("0x")) v = v.replace(/^0+/, "") || "0";
  v = v.replace(/_/g, "");
  const sign = v.startsWith("-") ? -1 : 1;
  if (v.startsWith("-") || v.startsWith("+")) v = v.slice(1);
  if (v === "0" || v === "") return 0;
  if (v.startsWith("0b")) return sign * parseInt(v.slice(2), 2);
  if (v.startsWith("0x")) return sign * parseInt(v.slice(2), 16);
  if (v.startsWith("0")) return sign * parseInt(v, 8);
  if (v.includes(":")) return sign * base60(v);
  return sign * Number(v);
}

/** PyYAML's construct_yaml_float. */
function toFloat(text: string): number {
  let v = text.replace(/_/g, "").toLowerCase();
  const sign = v.startsWith("-") ? -1 : 1;
  if (v.startsWith("-") || v.startsWith("+")) v = v.slice(1);
  if (v === ".inf") return sign * Infinity;
  if (v === ".nan") return NaN;
  if (v.includes(":")) return sign * base60(v);
  return sign * Number(v);
}

/** The tags, in PyYAML's order (the first whose pattern matches wins). */
export const SALT_YAML_TAGS: readonly PlainTag[] = [
  { tag: "tag:yaml.org,2002:bool", default: true, test: BOOL, resolve: (s) => TRUE.has(s.toLowerCase()) },
  { tag: "tag:yaml.org,2002:float", default: true, test: FLOAT, resolve: toFloat },
  { tag: "tag:yaml.org,2002:int", default: true, test: INT, resolve: toInt },
  { tag: "tag:yaml.org,2002:null", default: true, test: NULL, resolve: () => null },
  { tag: "tag:yaml.org,2002:timestamp", default: true, test: TIMESTAMP, resolve: (s) => s },
];

/** The value of a plain scalar with this text, as Salt's loader reads it. */
export function resolvePlain(text: string): unknown {
  for (const t of SALT_YAML_TAGS) if (t.test.test(text)) return t.resolve(text);
  return text;
}

/** Line breaks, and tabs: PyYAML refuses a tab anywhere around a plain scalar. */
const BREAKS = /[\t\r\n\u0085\u2028\u2029]/;
/** PyYAML's NON_PRINTABLE: what its reader refuses anywhere in a stream. */
const NON_PRINTABLE = /[^\t\n\r\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const BLOCK_STOP = /:(?: |$)| #/;
const FLOW_STOP = /:(?:[ ,[\]{}]|$)| #|[,?[\]{}]/;

/**
 * Whether `text` (already trimmed of spaces) would be read by PyYAML as exactly one plain
 * scalar with this text, in block or flow context: no line break or tab, no indicator first, no `: ` or
 * ` #` inside (nor `,[]{}?` in flow). Only then is Salt's result a scalar decided by the text.
 */
export function isPlainText(text: string, flow: boolean): boolean {
  if (text === "") return true;
  if (BREAKS.test(text) || NON_PRINTABLE.test(text)) return false;
  const c = text[0]!;
  const next = text[1];
  if (",[]{}#&*!|>'\"%@`".includes(c)) return false;
  if ("-?:".includes(c)) {
    if (next === undefined || next === " ") return false;
    if (c !== "-" && flow) return false;
  }
  return !(flow ? FLOW_STOP : BLOCK_STOP).test(text);
}
