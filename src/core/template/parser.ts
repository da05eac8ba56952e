/** Parses template chunks into a statement tree: if/elif/else, for/else, set, output and text. */
import { TemplateError } from "../errors.js";
import type { DataKind, Expr, Param, Stmt } from "./ast.js";
import { ExprParser } from "./expr-parser.js";
import { splitTemplate, type Chunk } from "./lexer.js";
import { TokenError, tokenize } from "./tokens.js";

/** Block tags and the tags that end them (or continue them). */
const ENDERS: Readonly<Record<string, readonly string[]>> = {
  if: ["elif", "else", "endif"],
  for: ["else", "endfor"],
  macro: ["endmacro"],
  call: ["endcall"],
  with: ["endwith"],
  set: ["endset"],
  load: ["endload"],
};

const DATA_KINDS: Readonly<Record<string, DataKind>> = { yaml: "yaml", json: "json", text: "text" };

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
      case "macro":
        return this.macroStmt(tag);
      case "call":
        return this.callStmt(tag);
      case "import":
        return this.importStmt(tag);
      case "from":
        return this.fromStmt(tag);
      case "include":
        return this.includeStmt(tag);
      case "import_yaml":
      case "import_json":
      case "import_text":
        return this.importData(tag);
      case "load_yaml":
      case "load_json":
      case "load_text":
        return this.loadData(tag);
      case "do": {
        const expr = tag.p.expr();
        tag.p.end();
        return { k: "do", line: tag.line, expr };
      }
      case "with":
        return this.withStmt(tag);
      case "break":
      case "continue":
        tag.p.end();
        return { k: tag.word, line: tag.line };
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
    if (!p.is("=")) {
      p.end();
      if (targets.length !== 1) throw new TokenError(open.line, "'{% set %}...{% endset %}' takes one name");
      const body = this.closed(open, ENDERS.set!);
      this.tag!.p.end();
      this.tag = null;
      return { k: "setblock", line: open.line, target: targets[0]!, body };
    }
    p.next();
    const value = p.expr();
    p.end();
    return { k: "set", line: open.line, targets, value };
  }

  /** `(a, b=1)`; the opening parenthesis is already consumed. */
  private params(p: ExprParser): Param[] {
    const out: Param[] = [];
    if (p.accept(")")) return out;
    for (;;) {
      const name = p.name();
      out.push({ name, def: p.accept("=") ? p.expr() : null });
      if (p.accept(")")) return out;
      p.expect(",");
    }
  }

  /** A block body closed by `end`, with the closing tag's own text checked. */
  private body(open: OpenTag, end: string): Stmt[] {
    const body = this.closed(open, [end]);
    this.tag!.p.end();
    this.tag = null;
    return body;
  }

  private macroStmt(open: OpenTag): Stmt {
    const p = open.p;
    const name = p.name();
    p.expect("(");
    const params = this.params(p);
    p.end();
    return { k: "macro", line: open.line, name, params, body: this.body(open, "endmacro") };
  }

  private callStmt(open: OpenTag): Stmt {
    const p = open.p;
    const params = p.accept("(") ? this.params(p) : [];
    const call = p.expr();
    p.end();
    if (call.k !== "call") throw new TokenError(open.line, "'{% call %}' needs a macro call, e.g. '{% call m(x) %}'");
    return { k: "callblock", line: open.line, params, call, body: this.body(open, "endcall") };
  }

  /** `with context` / `without context` at the end of an import; `dflt` when absent. */
  private context(p: ExprParser, dflt: boolean): boolean {
    let v = dflt;
    if (p.accept("with")) v = true;
    else if (p.accept("without")) v = false;
    else return v;
    p.expect("context");
    return v;
  }

  private importStmt(open: OpenTag): Stmt {
    const p = open.p;
    const template = p.noCond();
    p.expect("as");
    const alias = p.name();
    const withContext = this.context(p, false);
    p.end();
    return { k: "import", line: open.line, template, alias, withContext };
  }

  private fromStmt(open: OpenTag): Stmt {
    const p = open.p;
    const template = p.noCond();
    p.expect("import");
    const names: [string, string][] = [];
    do {
      if (p.is("with") || p.is("without")) break;
      const name = p.name();
      names.push([name, p.accept("as") ? p.name() : name]);
    } while (p.accept(","));
    const withContext = this.context(p, false);
    p.end();
    if (!names.length) throw new TokenError(open.line, "'{% from %}' imports no names");
    return { k: "from", line: open.line, template, names, withContext };
  }

  private includeStmt(open: OpenTag): Stmt {
    const p = open.p;
    const template = p.noCond();
    let ignoreMissing = false;
    if (p.accept("ignore")) {
      p.expect("missing");
      ignoreMissing = true;
    }
    const withContext = this.context(p, true);
    p.end();
    return { k: "include", line: open.line, template, ignoreMissing, withContext };
  }

  private importData(open: OpenTag): Stmt {
    const p = open.p;
    const template = p.noCond();
    p.expect("as");
    const alias = p.name();
    p.end();
    return { k: "importdata", line: open.line, kind: DATA_KINDS[open.word.slice("import_".length)]!, template, alias };
  }

  private loadData(open: OpenTag): Stmt {
    const p = open.p;
    p.expect("as");
    const target = p.name();
    p.end();
    return { k: "loaddata", line: open.line, kind: DATA_KINDS[open.word.slice("load_".length)]!, target, body: this.body(open, "endload") };
  }

  private withStmt(open: OpenTag): Stmt {
    const p = open.p;
    const assigns: [string, Expr][] = [];
    if (p.peek().t !== "eof") {
      do {
        const name = p.name();
        p.expect("=");
        assigns.push([name, p.expr()]);
      } while (p.accept(","));
    }
    p.end();
    return { k: "with", line: open.line, assigns, body: this.body(open, "endwith") };
  }
}
