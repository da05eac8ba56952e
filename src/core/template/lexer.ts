/**
 * Splits template source into chunks: literal text, `{{ output }}` and `{% tag %}` bodies, with
 * comments dropped and Jinja's whitespace control (`{%-`, `-%}`, `{{-`, `-}}`, `{#-`, `-#}`) applied.
 * Jinja's defaults as Salt uses them: trim_blocks and lstrip_blocks off.
 */
import { TemplateError } from "../errors.js";

/** One piece of template source. `line` is the 1-based line where it starts. */
export type Chunk =
  | { readonly kind: "text"; readonly line: number; text: string }
  | { readonly kind: "out" | "tag"; readonly line: number; readonly body: string; readonly bodyLine: number };

const OPENERS = ["{{", "{%", "{#"] as const;

/** Splits `source` into chunks. Unclosed tags are TemplateErrors naming `file` and line. */
export function splitTemplate(source: string, file: string): Chunk[] {
  const chunks: Chunk[] = [];
  let pos = 0;
  let line = 1;
  let stripNext = false;
  const advance = (to: number): void => {
    line += countNewlines(source, pos, to);
    pos = to;
  };
  while (pos < source.length) {
    const start = nextOpener(source, pos);
    let text = source.slice(pos, start === -1 ? source.length : start);
    if (stripNext) text = text.replace(/^\s+/, "");
    stripNext = false;
    const opener = start === -1 ? "" : source.slice(start, start + 2);
    if (start !== -1 && source[start + 2] === "-") text = text.replace(/\s+$/, "");
    if (text) chunks.push({ kind: "text", line, text });
    if (start === -1) break;
    advance(start);
    const tagLine = line;
    const bodyStart = start + 2 + (source[start + 2] === "-" || source[start + 2] === "+" ? 1 : 0);
    const end = opener === "{#" ? findCommentEnd(source, bodyStart) : findTagEnd(source, bodyStart, opener === "{{" ? "}}" : "%}");
    if (end === -1) throw new TemplateError({ file, line: tagLine }, `unclosed '${opener}'`);
    const dash = source[end - 1] === "-" && end - 1 >= bodyStart;
    const body = source.slice(bodyStart, dash ? end - 1 : end);
    stripNext = dash;
    if (opener !== "{#") {
      const bodyLine = tagLine + countNewlines(source, start, bodyStart);
      const chunk: Chunk = { kind: opener === "{{" ? "out" : "tag", line: tagLine, body, bodyLine };
      if (chunk.kind === "tag" && /^\s*raw\s*$/.test(body)) {
        advance(end + 2);
        stripNext = rawBlock(source, chunks, file, tagLine, { pos, line }, (p) => advance(p));
        continue;
      }
      chunks.push(chunk);
    }
    advance(end + 2);
  }
  return chunks;
}

/** Takes the text of a `{% raw %}` block verbatim; returns whether the endraw tag strips after. */
function rawBlock(
  source: string,
  chunks: Chunk[],
  file: string,
  tagLine: number,
  at: { pos: number; line: number },
  advance: (to: number) => void,
): boolean {
  const re = /\{%(-?)\s*endraw\s*(-?)%\}/g;
  re.lastIndex = at.pos;
  const m = re.exec(source);
  if (!m) throw new TemplateError({ file, line: tagLine }, "missing '{% endraw %}' for '{% raw %}'");
  let text = source.slice(at.pos, m.index);
  if (m[1] === "-") text = text.replace(/\s+$/, "");
  if (text) chunks.push({ kind: "text", line: at.line, text });
  advance(m.index + m[0].length);
  return m[2] === "-";
}

function nextOpener(s: string, from: number): number {
  let best = -1;
  for (const o of OPENERS) {
    const i = s.indexOf(o, from);
    if (i !== -1 && (best === -1 || i < best)) best = i;
  }
  return best;
}

function findCommentEnd(s: string, from: number): number {
  return s.indexOf("#}", from);
}

/** Index of the closing `}}`/`%}` at bracket depth 0, skipping string literals. */
function findTagEnd(s: string, from: number, close: string): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"') {
      i = skipString(s, i);
      if (i === -1) return -1;
    } else if (depth === 0 && s.startsWith(close, i)) return i;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if ((c === ")" || c === "]" || c === "}") && depth > 0) depth--;
  }
  return -1;
}

function skipString(s: string, at: number): number {
  const q = s[at];
  for (let i = at + 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === q) return i;
  }
  return -1;
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf("\n", from); i !== -1 && i < to; i = s.indexOf("\n", i + 1)) n++;
  return n;
}
