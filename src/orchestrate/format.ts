/** Salt's highstate outputter, for `reactor orchestrate` in a terminal. */
import type { StepResult } from "../core/requisites/index.js";

/** Options of the human output. */
export interface FormatOptions {
  /** ANSI colours: green ok, red failed, yellow would-run (dry run), cyan changed. */
  readonly color?: boolean;
}

/** What the formatter reads (a run result or a recorded summary). */
export interface FormattableRun {
  readonly data: Readonly<Record<string, Readonly<Record<string, StepResult>>>>;
  readonly not_run: readonly string[];
}

const COLORS = { green: "\x1b[32m", red: "\x1b[31m", yellow: "\x1b[33m", cyan: "\x1b[36m", reset: "\x1b[0m" } as const;

/** Formats a run as Salt prints `salt-run state.orchestrate`: one block per step, then a summary. */
export function formatOrchestration(run: FormattableRun, opts: FormatOptions = {}): string {
  const paint = (c: keyof typeof COLORS, s: string) => (opts.color ? `${COLORS[c]}${s}${COLORS.reset}` : s);
  const out: string[] = [];
  for (const [master, results] of Object.entries(run.data)) {
    out.push(`${master}:`);
    const ordered = Object.entries(results).sort(([, a], [, b]) => a.__run_num__ - b.__run_num__);
    for (const [tag, r] of ordered) out.push(...block(tag, r, paint));
    for (const tag of run.not_run) out.push(paint("red", `----------\n          ID: ${tag.split("_|-")[1] ?? tag}\n      Result: not run (a failhard step failed)`));
    out.push(...summary(master, Object.values(results), run.not_run.length, paint));
  }
  return out.join("\n");
}

type Paint = (c: keyof typeof COLORS, s: string) => string;

function block(tag: string, r: StepResult, paint: Paint): string[] {
  const [state, , , fun] = tag.split("_|-");
  const color = r.result === true ? "green" : r.result === null ? "yellow" : "red";
  const lines = [
    "----------",
    `          ID: ${r.__id__}`,
    `    Function: ${state ?? ""}.${fun ?? ""}`,
    `        Name: ${r.name}`,
    `      Result: ${r.result === null ? "None" : r.result ? "True" : "False"}`,
    `     Comment: ${r.comment}`,
    `     Started: ${r.start_time}`,
    `    Duration: ${r.duration} ms`,
    `     Changes: ${changes(r.changes)}`,
  ];
  return [paint(color, lines.join("\n"))];
}

function changes(c: Readonly<Record<string, unknown>>): string {
  if (Object.keys(c).length === 0) return "";
  return "\n" + JSON.stringify(c, null, 2).split("\n").map((l) => `              ${l}`).join("\n");
}

function summary(master: string, results: readonly StepResult[], notRun: number, paint: Paint): string[] {
  const ok = results.filter((r) => r.result === true);
  const changed = ok.filter((r) => Object.keys(r.changes).length > 0).length;
  const failed = results.filter((r) => r.result === false).length;
  const pending = results.filter((r) => r.result === null).length;
  const total = results.reduce((s, r) => s + r.duration, 0);
  const lines = [
    "",
    `Summary for ${master}`,
    "------------",
    paint("green", `Succeeded: ${ok.length}`) + (changed > 0 ? paint("cyan", ` (changed=${changed})`) : ""),
    paint(failed > 0 ? "red" : "green", `Failed:    ${failed}`),
  ];
  if (pending > 0) lines.push(paint("yellow", `Would run: ${pending}`));
  if (notRun > 0) lines.push(paint("red", `Not run:   ${notRun}`));
  lines.push("------------", `Total states run: ${String(results.length).padStart(5)}`, `Total run time: ${total.toFixed(3).padStart(8)} ms`);
  return lines;
}
