/** Tokenizer for the expressions inside `{{ }}` and `{% %}`. */

/** One expression token with its 1-based template line. */
export interface Token {
  readonly t: "name" | "num" | "str" | "op" | "eof";
  readonly v: string | number;
  readonly line: number;
}

const OPS = ["**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="];
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', "\n": "" };

/** A tokenizing problem: the message and the line. */
export class TokenError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Splits an expression body into tokens; `line` is the line where the body starts. */
export function tokenize(body: string, line: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === "\n") line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = body.slice(i);
    const num = /^(\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?)/.exec(rest);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (num) {
      out.push({ t: "num", v: Number(num[1]!.replaceAll("_", "")), line });
      i += num[0].length;
    } else if (name) {
      out.push({ t: "name", v: name[0], line });
      i += name[0].length;
    } else if (c === "'" || c === '"') {
      const [value, end, lines] = readString(body, i, line);
      out.push({ t: "str", v: value, line });
      line += lines;
      i = end;
    } else {
      const op = OPS.find((o) => body.startsWith(o, i));
      if (!op) throw new TokenError(line, `unexpected character ${JSON.stringify(c)}`);
      out.push({ t: "op", v: op, line });
      i += op.length;
    }
  }
  out.push({ t: "eof", v: "", line });
  return out;
}

function readString(s: string, at: number, line: number): [string, number, number] {
  const q = s[at];
  let value = "";
  let lines = 0;
  for (let i = at + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\n") lines++;
    if (c === q) return [value, i + 1, lines];
    if (c !== "\\") {
      value += c;
      continue;
    }
    const e = s[++i] ?? "";
    const hex = e === "u" ? /^[0-9a-fA-F]{4}/.exec(s.slice(i + 1)) : e === "x" ? /^[0-9a-fA-F]{2}/.exec(s.slice(i + 1)) : null;
    if (hex) {
      value += String.fromCharCode(parseInt(hex[0], 16));
      i += hex[0].length;
    } else value += ESCAPES[e] ?? `\\${e}`;
  }
  throw new TokenError(line, "unterminated string literal");
}
