/**
 * `reactor validate`'s warning for Salt's most common reactor pitfall: event data interpolated into
 * the command string of a `cmd.*` reaction (`cmd.run "ls {{ data['dir'] }}"`). The string is split
 * into words (or given to a shell with `python_shell`), so a value with spaces or quotes becomes
 * extra arguments or fails the job. Safe forms: `{{ data['dir'] | quote }}`, or a list `cmd`
 * whose items are each one expression (argv, no splitting). A text check of the SLS source, line by
 * line (a value passed through `{% set %}` first is not followed); the render is not changed.
 */
import type { ReactionProblem } from "./normalise.js";

/** A reaction key of a cmd.* function, as `local.cmd.run:` or `cmd.cmd.script:`. */
const CMD_KEY = /^(\s*)(?:local|cmd|caller)\.cmd\.([A-Za-z_]+)\s*:/;
/** Fields of a cmd.* reaction that are not the command or its arguments. */
const NOT_COMMAND = new Set(["tgt", "tgt_type", "expr_form", "timeout", "ret", "cwd", "runas", "env", "stdin", "order", "name", "python_shell", "shell", "rstrip", "ignore_retcode"]);
const EXPR = /\{\{-?(.*?)-?\}\}/g;
const KEY_LINE = /^(\s*)(?:-\s+)?([A-Za-z_][\w-]*)\s*:(?:\s|$)/;
const LIST_ITEM_ONLY_EXPR = /^\s*-\s+(['"]?)\{\{-?.*?-?\}\}\1\s*$/;

const indentOf = (line: string) => /^\s*/.exec(line)![0].length;
const usesEventData = (expr: string) => /\bdata\b/.test(expr);
const isQuoted = (expr: string) => /\|\s*quote\s*$/.test(expr.trim());

/** A warning per line where event data enters a cmd.* command string without `| quote`. */
export function unquotedDataInCommands(source: string, file: string): ReactionProblem[] {
  const lines = source.split("\n");
  const out: ReactionProblem[] = [];
  let block: { indent: number; fun: string } | undefined;
  /** Enclosing keys inside the block: indent -> key. */
  let keys: { indent: number; key: string }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "" || /^\s*(#|\{#|\{%)/.test(line)) return;
    const start = CMD_KEY.exec(line);
    if (start) {
      block = { indent: start[1]!.length, fun: `cmd.${start[2]!}` };
      keys = [];
      return;
    }
    if (!block) return;
    if (indentOf(line) <= block.indent) {
      block = undefined;
      return;
    }
    const k = KEY_LINE.exec(line);
    const at = indentOf(line) + (/^\s*-\s+/.test(line) ? 2 : 0);
    keys = keys.filter((x) => x.indent < at);
    const field = k ? k[2]! : keys.at(-1)?.key;
    if (k) keys.push({ indent: at, key: k[2]! });
    if (field !== undefined && NOT_COMMAND.has(field)) return;
    if (!k && field === "cmd" && LIST_ITEM_ONLY_EXPR.test(line)) return; // one argv item of a list cmd
    for (const m of line.matchAll(EXPR)) {
      const expr = m[1]!;
      if (!usesEventData(expr) || isQuoted(expr)) continue;
      out.push({
        file,
        line: i + 1,
        message: `event data {{${expr}}} is interpolated into the ${block.fun} command without | quote: spaces or quotes in the value become extra arguments (use {{ ${expr.trim()} | quote }}, or a list cmd with one item per argument; docs/security.md)`,
      });
    }
  });
  return out;
}
