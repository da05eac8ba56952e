/**
 * Splits a command string into argv the way a POSIX shell would tokenise it, WITHOUT a shell:
 * single quotes, double quotes (with `\"`, `\\`, `\$`, `` \` `` escapes) and backslashes are honoured;
 * nothing is expanded (no variables, globs, pipes or redirections: those characters stay literal).
 */
import { ExecutionError } from "../core/errors.js";

/** Splits `cmd` into words. Throws ExecutionError on an unterminated quote or trailing backslash. */
export function shellSplit(cmd: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const next = () => cmd[i++];
  while (i < cmd.length) {
    const c = next()!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = cmd.indexOf("'", i);
      if (end < 0) throw new ExecutionError(`unterminated single quote in command: ${cmd}`);
      word += cmd.slice(i, end);
      i = end + 1;
    } else if (c === '"') {
      word += readDouble(cmd, i, (n) => (i = n));
    } else if (c === "\\") {
      if (i >= cmd.length) throw new ExecutionError(`trailing backslash in command: ${cmd}`);
      const e = next()!;
      if (e !== "\n") word += e;
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}

function readDouble(cmd: string, start: number, setPos: (n: number) => void): string {
  let s = "";
  let i = start;
  for (;;) {
    if (i >= cmd.length) throw new ExecutionError(`unterminated double quote in command: ${cmd}`);
    const c = cmd[i++]!;
    if (c === '"') break;
    if (c === "\\" && i < cmd.length && '"\\$`\n'.includes(cmd[i]!)) {
      const e = cmd[i++]!;
      if (e !== "\n") s += e;
    } else s += c;
  }
  setPos(i);
  return s;
}
