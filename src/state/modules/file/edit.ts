/**
 * In-place edits (salt/states/file.py): file.replace (a Python-style regex, `count`,
 * `append_if_not_found`, `prepend_if_not_found`, `not_found_content`), file.append (`text` lines
 * added when missing), file.line (`content` with `mode` ensure/replace/delete/insert, `match`,
 * `before`/`after`, `location` start/end). Changes are a unified diff; test mode only reports it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { StateArgumentError } from "../../../core/errors.js";
import { checkApply, type Check } from "../check-apply.js";
import type { StateContext } from "../../types.js";
import { absPath, bool, str, strList } from "./args.js";
import { unifiedDiff } from "./diff.js";

type Path = string | { fail: string };
interface Edit {
  readonly path: Path;
  readonly edit: (text: string) => string;
  readonly fun: string;
}

/** Python's `re` syntax accepted here: (?P<name>...) and \g<name> are translated to JavaScript's. */
function pyRegex(fun: string, pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>"), flags);
  } catch (err) {
    throw new StateArgumentError(
      fun,
      "pattern",
      `is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

function editState(fun: string, parse: (a: Record<string, unknown>) => (text: string) => string) {
  return checkApply<Edit>({
    parse: (a) => ({ path: absPath(a), edit: parse(a), fun }),
    async check({ path, edit }, ctx: StateContext): Promise<Check> {
      if (typeof path !== "string") return { kind: "fail", comment: path.fail };
      const before = await readFile(path, "utf8").catch(() => undefined);
      if (before === undefined) return { kind: "fail", comment: `${path}: file not found` };
      const after = edit(before);
      if (after === before)
        return {
          kind: "ok",
          comment:
            fun === "file.append" ? `File ${path} is in correct state` : "No changes needed to be made",
        };
      return {
        kind: "change",
        changes: { diff: unifiedDiff(before, after) },
        comment: ctx.test ? "Changes would have been made" : "Changes were made",
      };
    },
    async apply({ path, edit }, found) {
      const before = await readFile(path as string, "utf8");
      await writeFile(path as string, edit(before));
      return {
        result: true,
        changes: found.changes,
        comment:
          fun === "file.append"
            ? `Appended ${
                String(found.changes.diff)
                  .split("\n")
                  .filter((l) => l.startsWith("+") && !l.startsWith("+++")).length
              } lines`
            : "Changes were made",
      };
    },
  });
}

export const replace = editState("file.replace", (a) => {
  const fun = "file.replace";
  const pattern = str(fun, a as never, "pattern");
  const repl = str(fun, a as never, "repl") ?? "";
  if (pattern === undefined) throw new StateArgumentError(fun, "pattern", "is required");
  const count = Number(a.count ?? 0);
  const flagList = strList(fun, a as never, "flags") ?? [];
  const flags = `g${flagList.includes("IGNORECASE") ? "i" : ""}m`;
  const appendIf = bool(fun, a as never, "append_if_not_found", false);
  const prependIf = bool(fun, a as never, "prepend_if_not_found", false);
  const notFound = str(fun, a as never, "not_found_content") ?? repl;
  const re = pyRegex(fun, pattern, flags);
  const jsRepl = repl
    .replace(/\$/g, "$$$$")
    .replace(/\\g<(\d+)>/g, "$$$1")
    .replace(/\\g<(\w+)>/g, "$$<$1>")
    .replace(/\\(\d)/g, "$$$1");
  return (text) => {
    let n = 0;
    const out = text.replace(re, (...m) => {
      if (count > 0 && n >= count) return m[0] as string;
      n++;
      return (m[0] as string).replace(new RegExp(re.source, re.flags.replace("g", "")), jsRepl);
    });
    if (n === 0 && !re.test(text)) {
      if (appendIf && !text.includes(notFound))
        return `${text}${text && !text.endsWith("\n") ? "\n" : ""}${notFound}\n`;
      if (prependIf && !text.includes(notFound)) return `${notFound}\n${text}`;
    }
    return out;
  };
});

export const append = editState("file.append", (a) => {
  const lines = strList("file.append", a as never, "text") ?? [];
  return (text) => {
    let out = text;
    for (const l of lines) {
      if (out.split("\n").includes(l)) continue;
      out = `${out}${out && !out.endsWith("\n") ? "\n" : ""}${l}\n`;
    }
    return out;
  };
});

export const line = editState("file.line", (a) => {
  const fun = "file.line";
  const content = str(fun, a as never, "content");
  const mode = str(fun, a as never, "mode");
  const match = str(fun, a as never, "match");
  const before = str(fun, a as never, "before");
  const after = str(fun, a as never, "after");
  const location = str(fun, a as never, "location");
  if (!mode || !["ensure", "replace", "delete", "insert"].includes(mode))
    throw new StateArgumentError(fun, "mode", "must be ensure, replace, delete or insert");
  if (mode !== "delete" && content === undefined)
    throw new StateArgumentError(fun, "content", `is required for mode ${mode}`);
  const re = (p: string) => pyRegex(fun, p, "");
  return (text) => {
    const lines = text.split("\n");
    const trailing = text.endsWith("\n");
    if (trailing) lines.pop();
    const want = content ?? "";
    const matcher =
      match !== undefined
        ? re(match)
        : content !== undefined
          ? re(content.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          : undefined;
    let out = lines;
    if (mode === "delete") out = lines.filter((l) => !(matcher && matcher.test(l)));
    else if (mode === "replace") out = lines.map((l) => (matcher && matcher.test(l) ? want : l));
    else if (!lines.includes(want)) {
      const idxAfter = after !== undefined ? lines.findIndex((l) => re(after).test(l)) : -1;
      const idxBefore = before !== undefined ? lines.findIndex((l) => re(before).test(l)) : -1;
      if (mode === "ensure" && matcher && lines.some((l) => matcher.test(l)) && match !== undefined)
        out = lines.map((l) => (matcher.test(l) ? want : l));
      else if (idxAfter >= 0) out = [...lines.slice(0, idxAfter + 1), want, ...lines.slice(idxAfter + 1)];
      else if (idxBefore >= 0) out = [...lines.slice(0, idxBefore), want, ...lines.slice(idxBefore)];
      else if (mode === "insert" || mode === "ensure")
        out = location === "start" ? [want, ...lines] : [...lines, want];
    }
    return `${out.join("\n")}${trailing || out.length ? "\n" : ""}`;
  };
});
