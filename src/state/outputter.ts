/**
 * Salt's highstate outputter (salt/output/highstate.py): a block per state, then the summary.
 * `state_output` full | terse | mixed | changes (and their `_id` forms); colours only when asked
 * (a TTY), with Salt's colour codes. Changes print as Salt's nested outputter at indent 14.
 */

/** Options of the outputter (Salt's minion options of the same names). */
export interface HighstateOutputOptions {
  /** Salt's `state_output`; default `full`. */
  readonly stateOutput?:
    "full" | "terse" | "mixed" | "changes" | "full_id" | "terse_id" | "mixed_id" | "changes_id";
  /** Salt's `state_verbose`: show states that succeeded without changes; default true. */
  readonly verbose?: boolean;
  /** Salt's `state_output_profile`: Started/Duration lines and the total run time; default true. */
  readonly profile?: boolean;
  /** ANSI colours (only for a TTY); default false. */
  readonly color?: boolean;
}

/** One state's result as the outputter reads it. */
interface Ret {
  readonly result?: boolean | null;
  readonly changes?: unknown;
  readonly comment?: unknown;
  readonly name?: unknown;
  readonly duration?: unknown;
  readonly start_time?: unknown;
  readonly warnings?: unknown;
  readonly __run_num__?: number;
}

const COLORS = {
  GREEN: "\x1b[0;32m",
  CYAN: "\x1b[0;36m",
  RED: "\x1b[0;31m",
  YELLOW: "\x1b[0;33m",
  LIGHT_YELLOW: "\x1b[1;33m",
  LIGHT_RED: "\x1b[1;31m",
  ENDC: "\x1b[0m",
} as const;
type Color = keyof typeof COLORS;

/**
 * The text Salt prints for one agent's state return: `data` is the return keyed by state tag, or
 * the render/compile errors (a list), or a plain string.
 */
export function formatHighstate(host: string, data: unknown, opts: HighstateOutputOptions = {}): string {
  const paint = (c: Color, s: string): string => (opts.color ? `${COLORS[c]}${s}${COLORS.ENDC}` : s);
  let hcolor: Color = "GREEN";
  const lines: string[] = [];
  if (typeof data === "string" || typeof data === "number") {
    for (const l of String(data).split("\n")) lines.push(paint("GREEN", `    ${l}`));
    hcolor = "CYAN";
  } else if (Array.isArray(data)) {
    hcolor = "LIGHT_RED";
    lines.push(`    ${paint(hcolor, "Data failed to compile:")}`);
    for (const err of data) lines.push(paint(hcolor, `----------\n    ${String(err)}`));
  } else if (data !== null && typeof data === "object") {
    hcolor = states(host, data as Record<string, unknown>, opts, paint, lines);
  }
  return [paint(hcolor, `${host}:`), ...lines].join("\n");
}

function states(
  host: string,
  data: Record<string, unknown>,
  opts: HighstateOutputOptions,
  paint: (c: Color, s: string) => string,
  out: string[],
): Color {
  const mode = opts.stateOutput ?? "full";
  const profile = opts.profile ?? true;
  const counts = new Map<boolean | null | "warnings", number>();
  const bump = (k: boolean | null | "warnings") => counts.set(k, (counts.get(k) ?? 0) + 1);
  let hcolor: Color = "GREEN";
  let nchanges = 0;
  let total = 0;
  let longestParallel = 0;
  const entries = Object.entries(data).filter((e): e is [string, Ret] => isRecord(e[1]) && "result" in e[1]);
  entries.sort((a, b) => (a[1].__run_num__ ?? 0) - (b[1].__run_num__ ?? 0));
  for (const [tag, ret] of entries) {
    const result = ret.result ?? null;
    bump(result);
    if ((ret as Record<string, unknown>).__parallel__ === true)
      longestParallel = Math.max(longestParallel, Number(ret.duration) || 0);
    else total += Number(ret.duration) || 0;
    const changed = isRecord(ret.changes) ? Object.keys(ret.changes).length > 0 : Boolean(ret.changes);
    if (changed) nchanges++;
    if (opts.verbose === false && result && !changed) continue;
    let tcolor: Color = changed ? "CYAN" : "GREEN";
    if (result === false) hcolor = tcolor = "RED";
    if (result === null) hcolor = tcolor = "LIGHT_YELLOW";
    const comps = tag.split("_|-");
    if (mode.endsWith("_id")) comps[2] = comps[1]!;
    const terse =
      mode.startsWith("terse") ||
      (mode.startsWith("mixed") && result !== false) ||
      (mode.startsWith("changes") && result && !changed);
    if (terse) {
      out.push(terseLine(comps, ret, changed, profile, paint, tcolor));
      continue;
    }
    out.push(...block(comps, ret, changed, profile, paint, tcolor));
    if (Array.isArray(ret.warnings)) {
      bump("warnings");
      out.push(
        `   ${paint("LIGHT_RED", ` Warnings: ${ret.warnings.map(String).join("\n" + " ".repeat(14))}`)}`,
      );
    }
  }
  out.push(...summary(host, counts, nchanges, total + longestParallel, profile, paint));
  return hcolor;
}

function block(
  comps: string[],
  ret: Ret,
  changed: boolean,
  profile: boolean,
  paint: (c: Color, s: string) => string,
  c: Color,
): string[] {
  const comment = String(ret.comment ?? "")
    .trim()
    .replace(/\n/g, "\n" + " ".repeat(14));
  const lines = [
    paint(c, "----------"),
    `    ${paint(c, `      ID: ${comps[1]}`)}`,
    `    ${paint(c, `Function: ${comps[0]}.${comps[3]}`)}`,
    `    ${paint(c, `  Result: ${py(ret.result ?? null)}`)}`,
    `    ${paint(c, ` Comment: ${comment}`)}`,
  ];
  if (profile && ret.start_time !== undefined && ret.start_time !== "") {
    lines.push(`    ${paint(c, ` Started: ${String(ret.start_time)}`)}`);
    lines.push(
      `    ${paint(c, `Duration: ${ret.duration === undefined ? "" : `${pyNum(ret.duration)} ms`}`)}`,
    );
  }
  if (comps[1] !== comps[2]) lines.splice(3, 0, `    ${paint(c, `    Name: ${comps[2]}`)}`);
  lines.push(paint(c, `     Changes:   ${changed ? "\n" + nested(ret.changes, 14).join("\n") : ""}`));
  return lines;
}

function terseLine(
  comps: string[],
  ret: Ret,
  changed: boolean,
  profile: boolean,
  paint: (c: Color, s: string) => string,
  c: Color,
): string {
  const word =
    ret.result === false ? "Failed" : ret.result === null ? "Differs" : changed ? "Changed" : "Clean";
  let s = ` Name: ${comps[2]} - Function: ${comps[0]}.${comps[comps.length - 1]} - Result: ${word}`;
  if (profile && ret.start_time !== undefined)
    s += ` - Started: ${String(ret.start_time)} - Duration: ${pyNum(ret.duration)} ms`;
  const warn = Array.isArray(ret.warnings)
    ? paint("LIGHT_RED", `Warnings:\n${ret.warnings.map(String).join("\n")}`)
    : "";
  return warn + paint(c, s);
}

function summary(
  host: string,
  counts: Map<boolean | null | "warnings", number>,
  nchanges: number,
  total: number,
  profile: boolean,
  paint: (c: Color, s: string) => string,
): string[] {
  const countLen = Math.max(0, ...[...counts.values()].map((n) => String(n).length));
  const width = "Succeeded".length + countLen + 2;
  const line = (label: string, n: number | string) =>
    `${label}: ${String(n).padStart(width - (label.length + 2))}`;
  const stats: string[] = [];
  if ((counts.get(null) ?? 0) > 0) stats.push(paint("LIGHT_YELLOW", `unchanged=${counts.get(null)}`));
  if (nchanges > 0) stats.push(paint("GREEN", `changed=${nchanges}`));
  const failed = counts.get(false) ?? 0;
  const warnings = counts.get("warnings") ?? 0;
  const run = [...counts.values()].reduce((a, b) => a + b, 0) - warnings;
  const out = [
    paint("CYAN", `\nSummary for ${host}\n${"-".repeat(width)}`),
    paint("GREEN", line("Succeeded", (counts.get(true) ?? 0) + (counts.get(null) ?? 0))) +
      (stats.length ? ` (${stats.join(", ")})` : ""),
    paint(failed ? "RED" : "CYAN", line("Failed", failed)),
  ];
  if (warnings) out.push(paint("LIGHT_RED", line("Warnings", warnings)));
  out.push(paint("CYAN", `${"-".repeat(width)}\nTotal states run: ${String(run).padStart(width - 7)}`));
  if (profile) {
    const [n, unit] = total > 999 ? [total / 1000, "s"] : [total, "ms"];
    out.push(paint("CYAN", `Total run time: ${n.toFixed(3).padStart(width - 5)} ${unit}`));
  }
  return out;
}

/** Salt's nested outputter (keys sorted, `----------` before a nested map, `- ` for list items). */
export function nested(value: unknown, indent: number, prefix = ""): string[] {
  const pad = " ".repeat(indent);
  if (value === null || value === undefined || typeof value === "boolean")
    return [`${pad}${prefix}${py(value ?? null)}`];
  if (typeof value === "number" || typeof value === "bigint") return [`${pad}${prefix}${String(value)}`];
  if (typeof value === "string")
    return value.split("\n").map((l, i) => `${pad}${i === 0 ? prefix : " ".repeat(prefix.length)}${l}`);
  if (Array.isArray(value)) {
    return value.flatMap((item) =>
      item !== null && typeof item === "object"
        ? [`${pad}|_`, ...nested(item, indent + 2, Array.isArray(item) ? "- " : "")]
        : nested(item, indent, "- "),
    );
  }
  const out = indent ? [`${pad}----------`] : [];
  const rec = value as Record<string, unknown>;
  for (const key of Object.keys(rec).sort())
    out.push(`${pad}${prefix}${key}:`, ...nested(rec[key], indent + 4));
  return out;
}

/** A duration as Python prints Salt's float (`2.0`, `0.25`). */
function pyNum(v: unknown): string {
  return typeof v === "number" && Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function py(v: boolean | null): string {
  return v === null ? "None" : v ? "True" : "False";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
