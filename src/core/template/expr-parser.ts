/** Parses expression tokens into an Expr, with Jinja's operator precedence. */
import type { Args, BinOp, CmpOp, Expr } from "./ast.js";
import { FILTERS } from "./filters.js";
import { TESTS } from "./tests.js";
import { TokenError, type Token } from "./tokens.js";

const CMP_OPS = new Set(["==", "!=", "<", ">", "<=", ">="]);
const TEST_ARG_STOP = new Set(["else", "or", "and", "if", "in", "not", "is"]);

/** A cursor over tokens with the expression grammar. Statement parsing uses it too. */
export class ExprParser {
  private i = 0;
  constructor(private readonly toks: readonly Token[]) {}

  /** The current token. */
  peek(ahead = 0): Token {
    return this.toks[Math.min(this.i + ahead, this.toks.length - 1)]!;
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  /** Whether the current token is the operator or name `v` (without consuming it). */
  is(v: string): boolean {
    const t = this.peek();
    return (t.t === "op" || t.t === "name") && t.v === v;
  }

  /** Consumes the current token if it is `v`. */
  accept(v: string): boolean {
    if (!this.is(v)) return false;
    this.next();
    return true;
  }

  /** Consumes `v` or fails. */
  expect(v: string): void {
    if (!this.accept(v)) this.fail(`expected '${v}'`);
  }

  /** Consumes a name or fails. */
  name(): string {
    const t = this.peek();
    if (t.t !== "name") this.fail("expected a name");
    this.next();
    return t.v as string;
  }

  /** Fails unless all tokens were used. */
  end(): void {
    if (this.peek().t !== "eof") this.fail("unexpected text after the expression");
  }

  /** Throws a TokenError at the current token. */
  fail(reason: string): never {
    const t = this.peek();
    const got = t.t === "eof" ? "end of expression" : `'${String(t.v)}'`;
    throw new TokenError(t.line, `${reason}, got ${got}`);
  }

  /** A full expression, including `a if c else b`. */
  expr(): Expr {
    const line = this.peek().line;
    const value = this.or();
    if (!this.accept("if")) return value;
    const test = this.or();
    const otherwise = this.accept("else") ? this.expr() : null;
    return { k: "cond", line, test, then: value, otherwise };
  }

  /** An expression without a top-level `if ... else` (the iterable of a for loop). */
  noCond(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.is("or")) {
      const line = this.next().line;
      left = { k: "or", line, left, right: this.and() };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.is("and")) {
      const line = this.next().line;
      left = { k: "and", line, left, right: this.not() };
    }
    return left;
  }

  private not(): Expr {
    if (this.is("not")) {
      const line = this.next().line;
      return { k: "unary", line, op: "not", value: this.not() };
    }
    return this.compare();
  }

  private compare(): Expr {
    const line = this.peek().line;
    const first = this.math1();
    const rest: [CmpOp, Expr][] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === "op" && CMP_OPS.has(t.v as string)) {
        this.next();
        rest.push([t.v as CmpOp, this.math1()]);
      } else if (this.is("in")) {
        this.next();
        rest.push(["in", this.math1()]);
      } else if (this.is("not") && this.peek(1).t === "name" && this.peek(1).v === "in") {
        this.next();
        this.next();
        rest.push(["not in", this.math1()]);
      } else break;
    }
    return rest.length ? { k: "cmp", line, first, rest } : first;
  }

  private binary(ops: readonly string[], operand: () => Expr): Expr {
    let left = operand();
    for (;;) {
      const t = this.peek();
      if (t.t !== "op" || !ops.includes(t.v as string)) return left;
      this.next();
      left = { k: "bin", line: t.line, op: t.v as BinOp, left, right: operand() };
    }
  }

  private math1(): Expr {
    return this.binary(["+", "-"], () => this.concat());
  }

  private concat(): Expr {
    return this.binary(["~"], () => this.math2());
  }

  private math2(): Expr {
    return this.binary(["*", "/", "//", "%"], () => this.pow());
  }

  private pow(): Expr {
    return this.binary(["**"], () => this.unary());
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.t === "op" && (t.v === "-" || t.v === "+")) {
      this.next();
      return { k: "unary", line: t.line, op: t.v, value: this.unary() };
    }
    return this.filters(this.postfix(this.primary()));
  }

  private primary(): Expr {
    const save = this.i;
    const t = this.next();
    const line = t.line;
    if (t.t === "num") return { k: "lit", line, value: t.v };
    if (t.t === "str") {
      let value = t.v as string;
      while (this.peek().t === "str") value += this.next().v as string;
      return { k: "lit", line, value };
    }
    if (t.t === "name") {
      if (t.v === "true" || t.v === "True") return { k: "lit", line, value: true };
      if (t.v === "false" || t.v === "False") return { k: "lit", line, value: false };
      if (t.v === "none" || t.v === "None") return { k: "lit", line, value: null };
      return { k: "name", line, name: t.v as string };
    }
    if (t.t === "op" && t.v === "(") return this.parenthesised(line);
    if (t.t === "op" && t.v === "[") return { k: "list", line, items: this.list("]") };
    if (t.t === "op" && t.v === "{") return this.dict(line);
    this.i = save;
    return this.fail("expected a value");
  }

  private parenthesised(line: number): Expr {
    if (this.accept(")")) return { k: "list", line, items: [] };
    const first = this.expr();
    if (this.accept(")")) return first;
    this.expect(",");
    return { k: "list", line, items: [first, ...this.list(")")] };
  }

  private list(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.accept(close)) {
      items.push(this.expr());
      if (!this.accept(",")) {
        this.expect(close);
        break;
      }
    }
    return items;
  }

  private dict(line: number): Expr {
    const pairs: [Expr, Expr][] = [];
    while (!this.accept("}")) {
      const key = this.expr();
      this.expect(":");
      pairs.push([key, this.expr()]);
      if (!this.accept(",")) {
        this.expect("}");
        break;
      }
    }
    return { k: "dict", line, pairs };
  }

  private postfix(node: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.t !== "op") return node;
      if (t.v === ".") {
        this.next();
        const n = this.next();
        if (n.t === "num") node = { k: "item", line: t.line, obj: node, key: { k: "lit", line: t.line, value: n.v } };
        else if (n.t === "name") node = { k: "attr", line: t.line, obj: node, name: n.v as string };
        else this.fail("expected an attribute name after '.'");
      } else if (t.v === "[") {
        this.next();
        node = this.subscript(node, t.line);
      } else if (t.v === "(") {
        this.next();
        node = { k: "call", line: t.line, fn: node, args: this.args() };
      } else return node;
    }
  }

  private subscript(obj: Expr, line: number): Expr {
    const parts: (Expr | null)[] = [];
    let cur: Expr | null = null;
    for (;;) {
      if (this.accept(":")) {
        parts.push(cur);
        cur = null;
      } else if (this.accept("]")) {
        parts.push(cur);
        break;
      } else if (cur === null) cur = this.expr();
      else this.fail("expected ']'");
    }
    if (parts.length === 1) return { k: "item", line, obj, key: parts[0] ?? this.fail("expected an index") };
    if (parts.length > 3) this.fail("too many ':' in a slice");
    return { k: "slice", line, obj, parts };
  }

  /** Call arguments after the `(`: positional, then `name=value`. */
  args(): Args {
    const pos: Expr[] = [];
    const kw: [string, Expr][] = [];
    while (!this.accept(")")) {
      if (this.peek().t === "name" && this.peek(1).t === "op" && this.peek(1).v === "=") {
        const key = this.name();
        this.next();
        kw.push([key, this.expr()]);
      } else {
        if (kw.length) this.fail("positional argument after a keyword argument");
        pos.push(this.expr());
      }
      if (!this.accept(",")) {
        this.expect(")");
        break;
      }
    }
    return { pos, kw };
  }

  private filters(node: Expr): Expr {
    for (;;) {
      if (this.is("|")) {
        const line = this.next().line;
        const name = this.dottedName();
        if (!FILTERS.has(name)) throw new TokenError(line, `no filter named '${name}'`);
        const args = this.accept("(") ? this.args() : { pos: [], kw: [] };
        node = { k: "filter", line, value: node, name, args };
      } else if (this.is("is")) {
        const line = this.next().line;
        const negated = this.accept("not");
        const name = this.dottedName();
        if (!TESTS.has(name)) throw new TokenError(line, `no test named '${name}'`);
        node = { k: "test", line, value: node, name, args: this.testArgs(), negated };
      } else return node;
    }
  }

  private dottedName(): string {
    let name = this.name();
    while (this.accept(".")) name += `.${this.name()}`;
    return name;
  }

  private testArgs(): Args {
    if (this.accept("(")) return this.args();
    const t = this.peek();
    const startsValue = t.t === "num" || t.t === "str" || (t.t === "name" && !TEST_ARG_STOP.has(t.v as string)) || (t.t === "op" && (t.v === "[" || t.v === "{"));
    return startsValue ? { pos: [this.postfix(this.primary())], kw: [] } : { pos: [], kw: [] };
  }
}
