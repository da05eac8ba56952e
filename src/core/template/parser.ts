/** Parses template chunks into a statement tree: if/elif/else, for/else, set, output and text. */
import { TemplateError } from "../errors.js";
import type { Expr, Stmt } from "./ast.js";
import { ExprParser } from "./expr-parser.js";
import { splitTemplate, type Chunk } from "./lexer.js";
import { TokenError, tokenize } from "./tokens.js";

/** Block tags and the tags that end them (or continue them). */
const ENDERS: Readonly<Record<string, readonly string[]>> = {
  if: ["elif", "else", "endif"],
  for: ["else", "endfor"],
};

/** Parses a template into statements; syntax errors are TemplateErrors with file and line. */
export function parseTemplate(source: string, file: string): Stmt[] {
  const chunks = splitTemplate(source, file);
  try {
    const p = new StmtParser(chunks);
    const body = p.block([]);
    if (p.tag) throw new TokenError(p.tag.line, `unexpected '{% ${p.tag.word} %}'`);
    return body;
  } catch (err) {
    if (err instanceof TokenError) throw new TemplateError({ file, line: err.line }, err.message);
    throw err;
  }
}

interface OpenTag {
  readonly word: string;
  readonly line: number;
  readonly p: ExprParser;
}

class StmtParser {
  private i = 0;
  /** The block-ending tag that stopped the last `block()` call. */
  tag: OpenTag | null = null;

  constructor(private readonly chunks: readonly Chunk[]) {}

  /** Statements until one of `stop` (left in `this.tag`) or the end. */
  block(stop: readonly string[]): Stmt[] {
    const out: Stmt[] = [];
    this.tag = null;
    while (this.i < this.chunks.length) {
      const c = this.chunks[this.i++]!;
      if (c.kind === "text") out.push({ k: "text", line: c.line, text: c.text });
      else if (c.kind === "out") out.push({ k: "out", line: c.line, expr: this.wholeExpr(c) });
      else {
        const p = new ExprParser(tokenize(c.body, c.bodyLine));
        if (p.peek().t !== "name") p.fail("expected a tag name");
        const word = p.next().v as string;
        const tag = { word, line: c.line, p };
        if (stop.includes(word)) {
          this.tag = tag;
          return out;
        }
        out.push(this.statement(tag));
      }
    }
    return out;
  }

  private wholeExpr(c: Extract<Chunk, { body: string }>): Expr {
    const p = new ExprParser(tokenize(c.body, c.bodyLine));
    const e = p.expr();
    p.end();
    return e;
  }

  private statement(tag: OpenTag): Stmt {
    switch (tag.word) {
      case "if":
        return this.ifStmt(tag);
      case "for":
        return this.forStmt(tag);
      case "set":
        return this.setStmt(tag);
      default:
        if (Object.values(ENDERS).some((e) => e.includes(tag.word))) throw new TokenError(tag.line, `unexpected '{% ${tag.word} %}'`);
        throw new TokenError(tag.line, `unsupported tag '${tag.word}'`);
    }
  }

  private closed(open: OpenTag, stop: readonly string[]): Stmt[] {
    const body = this.block(stop);
    if (!this.tag) throw new TokenError(open.line, `'{% ${open.word} %}' is never closed (missing '{% ${stop[stop.length - 1]} %}')`);
    return body;
  }

  private ifStmt(open: OpenTag): Stmt {
    const branches: [Expr, Stmt[]][] = [];
    let cond = this.condition(open.p);
    let otherwise: Stmt[] = [];
    for (;;) {
      const body = this.closed(open, ENDERS.if!);
      branches.push([cond, body]);
      const t = this.tag!;
      if (t.word === "elif") cond = this.condition(t.p);
      else if (t.word === "else") {
        t.p.end();
        otherwise = this.closed(open, ["endif"]);
        this.tag!.p.end();
        break;
      } else {
        t.p.end();
        break;
      }
    }
    this.tag = null;
    return { k: "if", line: open.line, branches, otherwise };
  }

  private condition(p: ExprParser): Expr {
    const e = p.expr();
    p.end();
    return e;
  }

  private forStmt(open: OpenTag): Stmt {
    const p = open.p;
    const targets = [p.name()];
    while (p.accept(",")) targets.push(p.name());
    p.expect("in");
    const iter = p.noCond();
    const filter = p.accept("if") ? p.expr() : null;
    p.end();
    const body = this.closed(open, ENDERS.for!);
    let otherwise: Stmt[] = [];
    if (this.tag!.word === "else") {
      this.tag!.p.end();
      otherwise = this.closed(open, ["endfor"]);
    }
    this.tag!.p.end();
    this.tag = null;
    return { k: "for", line: open.line, targets, iter, filter, body, otherwise };
  }

  private setStmt(open: OpenTag): Stmt {
    const p = open.p;
    const targets = [p.name()];
    while (p.accept(",")) targets.push(p.name());
    if (!p.is("=")) throw new TokenError(open.line, "block '{% set %}...{% endset %}' is not supported; use '{% set x = value %}'");
    p.next();
    const value = p.expr();
    p.end();
    return { k: "set", line: open.line, targets, value };
  }
}
