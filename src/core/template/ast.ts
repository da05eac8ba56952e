/**
 * The syntax tree of a compiled template: statements (text, output, if, for, set) and expressions.
 * Every node carries the 1-based template line it came from, for error messages.
 */

/** An expression. */
export type Expr =
  | { readonly k: "lit"; readonly line: number; readonly value: unknown }
  | { readonly k: "name"; readonly line: number; readonly name: string }
  | { readonly k: "list"; readonly line: number; readonly items: readonly Expr[] }
  | { readonly k: "dict"; readonly line: number; readonly pairs: readonly (readonly [Expr, Expr])[] }
  | { readonly k: "attr"; readonly line: number; readonly obj: Expr; readonly name: string }
  | { readonly k: "item"; readonly line: number; readonly obj: Expr; readonly key: Expr }
  | { readonly k: "slice"; readonly line: number; readonly obj: Expr; readonly parts: readonly (Expr | null)[] }
  | { readonly k: "call"; readonly line: number; readonly fn: Expr; readonly args: Args }
  | { readonly k: "filter"; readonly line: number; readonly value: Expr; readonly name: string; readonly args: Args }
  | { readonly k: "test"; readonly line: number; readonly value: Expr; readonly name: string; readonly args: Args; readonly negated: boolean }
  | { readonly k: "unary"; readonly line: number; readonly op: "not" | "-" | "+"; readonly value: Expr }
  | { readonly k: "bin"; readonly line: number; readonly op: BinOp; readonly left: Expr; readonly right: Expr }
  | { readonly k: "and" | "or"; readonly line: number; readonly left: Expr; readonly right: Expr }
  | { readonly k: "cmp"; readonly line: number; readonly first: Expr; readonly rest: readonly (readonly [CmpOp, Expr])[] }
  | { readonly k: "cond"; readonly line: number; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr | null };

/** Arithmetic and concatenation operators. */
export type BinOp = "+" | "-" | "*" | "/" | "//" | "%" | "**" | "~";
/** Comparison operators (chainable, as in Python). */
export type CmpOp = "==" | "!=" | "<" | ">" | "<=" | ">=" | "in" | "not in";

/** Positional and keyword arguments of a call, filter or test. */
export interface Args {
  readonly pos: readonly Expr[];
  readonly kw: readonly (readonly [string, Expr])[];
}

/** A statement. */
export type Stmt =
  | { readonly k: "text"; readonly line: number; readonly text: string }
  | { readonly k: "out"; readonly line: number; readonly expr: Expr }
  | { readonly k: "if"; readonly line: number; readonly branches: readonly (readonly [Expr, readonly Stmt[]])[]; readonly otherwise: readonly Stmt[] }
  | {
      readonly k: "for";
      readonly line: number;
      readonly targets: readonly string[];
      readonly iter: Expr;
      readonly filter: Expr | null;
      readonly body: readonly Stmt[];
      readonly otherwise: readonly Stmt[];
    }
  | { readonly k: "set"; readonly line: number; readonly targets: readonly string[]; readonly value: Expr }
  /** `{% set x %}...{% endset %}`: the body's text. */
  | { readonly k: "setblock"; readonly line: number; readonly target: string; readonly body: readonly Stmt[] }
  | { readonly k: "macro"; readonly line: number; readonly name: string; readonly params: readonly Param[]; readonly body: readonly Stmt[] }
  /** `{% call(params) m(args) %}body{% endcall %}`: `m` gets `caller`, a macro of `body`. */
  | { readonly k: "callblock"; readonly line: number; readonly params: readonly Param[]; readonly call: Expr; readonly body: readonly Stmt[] }
  | { readonly k: "import"; readonly line: number; readonly template: Expr; readonly alias: string; readonly withContext: boolean }
  | { readonly k: "from"; readonly line: number; readonly template: Expr; readonly names: readonly (readonly [string, string])[]; readonly withContext: boolean }
  | { readonly k: "include"; readonly line: number; readonly template: Expr; readonly ignoreMissing: boolean; readonly withContext: boolean }
  /** Salt's `{% import_yaml "f" as x %}` (and json, text): the file rendered, then parsed. */
  | { readonly k: "importdata"; readonly line: number; readonly kind: DataKind; readonly template: Expr; readonly alias: string }
  /** Salt's `{% load_yaml as x %}...{% endload %}` (and json, text). */
  | { readonly k: "loaddata"; readonly line: number; readonly kind: DataKind; readonly target: string; readonly body: readonly Stmt[] }
  | { readonly k: "do"; readonly line: number; readonly expr: Expr }
  | { readonly k: "with"; readonly line: number; readonly assigns: readonly (readonly [string, Expr])[]; readonly body: readonly Stmt[] }
  | { readonly k: "break" | "continue"; readonly line: number };

/** A macro parameter and its default. */
export interface Param {
  readonly name: string;
  readonly def: Expr | null;
}

/** What Salt's data tags parse. */
export type DataKind = "yaml" | "json" | "text";
