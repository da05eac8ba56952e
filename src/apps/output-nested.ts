/**
 * Salt's `nested` outputter, the default of `salt` and `salt-call` for execution functions:
 * mappings as `key:` lines under a `----------` rule (keys sorted), lists as `- item` (`|_` before
 * a nested list or mapping), scalars as Python prints them (None, True, 3.5), strings line by line.
 * No colours (Salt strips them when the output is not a terminal).
 */
import { pyNumber } from "../core/template/index.js";

/** The nested text of `value`, starting at `indent` spaces. */
export function formatNested(value: unknown, indent = 0): string {
  const out: string[] = [];
  display(value, indent, "", out);
  return out.join("\n");
}

function line(indent: number, text: string, prefix = "", suffix = ""): string {
  return `${" ".repeat(indent)}${prefix}${text}${suffix}`;
}

function display(v: unknown, indent: number, prefix: string, out: string[]): void {
  if (v === null || v === undefined) out.push(line(indent, "None", prefix));
  else if (v === true || v === false) out.push(line(indent, v ? "True" : "False", prefix));
  else if (typeof v === "number") out.push(line(indent, pyNumber(v), prefix));
  else if (typeof v === "string") {
    // Python's splitlines(): an empty string prints nothing.
    v.split(/\r\n|\r|\n/)
      .slice(0, v.endsWith("\n") ? -1 : undefined)
      .forEach((l, i) => out.push(line(indent, l, i === 0 ? prefix : " ".repeat(prefix.length))));
  } else if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === "object") {
        out.push(line(indent, "|_"));
        display(item, indent + 2, Array.isArray(item) ? "- " : "", out);
      } else display(item, indent, "- ", out);
    }
  } else if (typeof v === "object") {
    if (indent) out.push(line(indent, "----------"));
    const map = v as Record<string, unknown>;
    for (const key of Object.keys(map).sort()) {
      out.push(line(indent, key, prefix, ":"));
      display(map[key], indent + 4, "", out);
    }
  } else out.push(line(indent, String(v as bigint), prefix));
}
