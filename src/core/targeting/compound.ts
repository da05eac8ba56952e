/**
 * Salt's compound targets parsed into a tree: words separated by whitespace; `and`, `or`, `not`
 * and standalone `(` `)` as operators with Python's precedence (`not` over `and` over `or`); a
 * `not` right after a target means `and not` (Salt inserts the `and`). Other words are targets:
 * `G@key:glob`, `P@key:regex`, `E@regex`, `L@a,b`, `@`-less words are id globs.
 */
import { TargetSyntaxError } from "../errors.js";

/** A leaf of a compound target: one engine and its pattern. */
export interface TargetLeaf {
  readonly kind: "leaf";
  /** `G` grain, `P` grain regex, `E` id regex, `L` id list, `glob` id glob. */
  readonly engine: "G" | "P" | "E" | "L" | "glob";
  readonly pattern: string;
  /** 1-based position of the word in the expression. */
  readonly position: number;
}

/** A parsed compound target. */
export type TargetNode =
  | TargetLeaf
  | { readonly kind: "not"; readonly operand: TargetNode }
  | { readonly kind: "and" | "or"; readonly left: TargetNode; readonly right: TargetNode };

/** The engines a compound word may name. Salt's others (N, S, I, J, R) are not supported. */
const ENGINES = new Set(["G", "P", "E", "L"]);
const OPERATORS = new Set(["and", "or", "not", "(", ")"]);

interface Token {
  readonly text: string;
  readonly position: number;
}

/** Splits on whitespace, keeping each word's 1-based position. */
function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  for (const m of expr.matchAll(/\S+/g)) out.push({ text: m[0], position: (m.index ?? 0) + 1 });
  return out;
}

/** Parses a compound expression; throws TargetSyntaxError naming the position. */
export function parseCompound(expr: string): TargetNode {
  const tokens = withImplicitAnd(tokenize(expr));
  if (tokens.length === 0) throw new TargetSyntaxError(expr, 1, "empty compound target");
  const p = new Parser(expr, tokens);
  const node = p.parseOr();
  p.expectEnd();
  return node;
}

/** Salt's rule: `not` after a target or `)` is `and not`. */
function withImplicitAnd(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  for (const t of tokens) {
    const prev = out[out.length - 1];
    if (t.text === "not" && prev && !["and", "or", "not", "("].includes(prev.text)) {
      out.push({ text: "and", position: t.position });
    }
    out.push(t);
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly expr: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseOr(): TargetNode {
    let left = this.parseAnd();
    while (this.peek()?.text === "or") {
      this.i++;
      left = { kind: "or", left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): TargetNode {
    let left = this.parseNot();
    while (this.peek()?.text === "and") {
      this.i++;
      left = { kind: "and", left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): TargetNode {
    if (this.peek()?.text === "not") {
      this.i++;
      return { kind: "not", operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): TargetNode {
    const t = this.peek();
    const before = this.tokens[this.i - 1];
    if (!t) {
      const at = before ? before.position + before.text.length : this.expr.length + 1;
      throw this.error(at, before ? `expected a target after ${JSON.stringify(before.text)}` : "expected a target");
    }
    if (t.text === "(") {
      this.i++;
      const inner = this.parseOr();
      const close = this.peek();
      if (close?.text !== ")") throw this.error(t.position, "unbalanced parenthesis: this ( is not closed");
      this.i++;
      return inner;
    }
    if (OPERATORS.has(t.text)) {
      const what = before ? `after ${JSON.stringify(before.text)}` : "at the start";
      throw this.error(t.position, `expected a target ${what}, found ${JSON.stringify(t.text)}`);
    }
    this.i++;
    return parseLeaf(this.expr, t);
  }

  expectEnd(): void {
    const t = this.peek();
    if (!t) return;
    if (t.text === ")") throw this.error(t.position, "unbalanced parenthesis: ) without (");
    throw this.error(t.position, `expected "and", "or" or ")" before ${JSON.stringify(t.text)}`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private error(position: number, reason: string): TargetSyntaxError {
    return new TargetSyntaxError(this.expr, position, reason);
  }
}

/** One word: `X@pattern` with a known engine, else an id glob. */
function parseLeaf(expr: string, t: Token): TargetLeaf {
  const m = /^([A-Z])@(.*)$/su.exec(t.text);
  if (!m) return { kind: "leaf", engine: "glob", pattern: t.text, position: t.position };
  const engine = m[1]!;
  const pattern = m[2]!;
  if (!ENGINES.has(engine)) {
    throw new TargetSyntaxError(expr, t.position, `unsupported target engine ${engine}@ (supported: G@, P@, E@, L@ and bare globs)`);
  }
  if (pattern === "") throw new TargetSyntaxError(expr, t.position, `empty pattern after ${engine}@`);
  return { kind: "leaf", engine: engine as TargetLeaf["engine"], pattern, position: t.position };
}

/** The tree written back with explicit parentheses, e.g. `(G@os:Debian and (not web*))`. */
export function formatTargetNode(node: TargetNode): string {
  switch (node.kind) {
    case "leaf":
      return node.engine === "glob" ? node.pattern : `${node.engine}@${node.pattern}`;
    case "not":
      return `(not ${formatTargetNode(node.operand)})`;
    default:
      return `(${formatTargetNode(node.left)} ${node.kind} ${formatTargetNode(node.right)})`;
  }
}
