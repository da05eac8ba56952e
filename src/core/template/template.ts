/**
 * compileTemplate: a Jinja2-compatible template engine for reactor and orchestration SLS files.
 * Compiled once into a statement tree, rendered many times. Undefined names and attributes are
 * errors (Salt's StrictUndefined); attribute access never reaches prototypes; only whitelisted
 * methods and filters, and functions the caller put in the context, can be called.
 */
import { TemplateError } from "../errors.js";
import type { Expr, Stmt } from "./ast.js";
import { evaluate, need, Scope } from "./evaluate.js";
import { SERIALISING_FILTERS, toJson } from "./filters.js";
import { parseTemplate } from "./parser.js";
import { EvalError, iterate, str, TemplateSuspend, truthy } from "./values.js";

/**
 * Turns the value of each `{{ }}` into text. `filtered` is "json" or "yaml" when the expression
 * ends in the `json`/`tojson` or `yaml` filter; `value` is then the value *before* that filter.
 */
export type OutputHook = (value: unknown, filtered: "json" | "yaml" | null) => string;

/** A compiled template. */
export interface Template {
  /** The file name used in error messages. */
  readonly file: string;
  /** Renders with `context` as the top-level names. Errors are TemplateErrors with file and line. */
  render(context: Readonly<Record<string, unknown>>, out?: OutputHook): string;
}

/**
 * The default output: Python's str() for scalars (None, True, False), strings as they are,
 * lists and dicts as JSON; `json`/`tojson`/`yaml` output as JSON (which is also flow YAML).
 */
export const defaultOutput: OutputHook = (value, filtered) => (filtered ? toJson(value) : str(value));

/** Compiles `source`; syntax errors throw a TemplateError naming `file` and the line. */
export function compileTemplate(source: string, file: string): Template {
  const body = parseTemplate(source, file);
  return {
    file,
    render: (context, out = defaultOutput) => {
      const r = new Renderer(out);
      try {
        r.run(body, new Scope(null, context));
      } catch (err) {
        if (err instanceof TemplateSuspend) throw err;
        if (err instanceof EvalError) throw new TemplateError({ file, line: err.line ?? r.line }, err.message);
        if (err instanceof TemplateError) throw err;
        throw new TemplateError({ file, line: r.line }, `render failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      return r.text;
    },
  };
}

class Renderer {
  text = "";
  /** Line of the statement being run, for errors that carry none. */
  line = 1;
  constructor(private readonly out: OutputHook) {}

  run(body: readonly Stmt[], scope: Scope): void {
    for (const s of body) {
      this.line = s.line;
      switch (s.k) {
        case "text":
          this.text += s.text;
          break;
        case "out":
          this.text += this.output(s.expr, scope);
          break;
        case "if":
          this.runIf(s, scope);
          break;
        case "for":
          this.runFor(s, scope);
          break;
        case "set":
          assign(scope, s.targets, need(evaluate(s.value, scope)), s.line);
          break;
      }
    }
  }

  private output(e: Expr, scope: Scope): string {
    const kind = e.k === "filter" ? SERIALISING_FILTERS.get(e.name) : undefined;
    const value = need(evaluate(kind && e.k === "filter" ? e.value : e, scope));
    return this.out(value, kind ?? null);
  }

  private runIf(s: Extract<Stmt, { k: "if" }>, scope: Scope): void {
    for (const [cond, body] of s.branches) {
      if (truthy(need(evaluate(cond, scope)), s.line)) return this.run(body, scope);
    }
    this.run(s.otherwise, scope);
  }

  private runFor(s: Extract<Stmt, { k: "for" }>, scope: Scope): void {
    let items = iterate(need(evaluate(s.iter, scope)));
    if (s.filter) {
      const f = s.filter;
      items = items.filter((x) => {
        const inner = new Scope(scope, scope.context);
        assign(inner, s.targets, x, s.line);
        return truthy(need(evaluate(f, inner)), s.line);
      });
    }
    if (!items.length) return this.run(s.otherwise, scope);
    const length = items.length;
    items.forEach((x, i) => {
      const inner = new Scope(scope, scope.context);
      assign(inner, s.targets, x, s.line);
      inner.vars.set("loop", {
        index: i + 1,
        index0: i,
        revindex: length - i,
        revindex0: length - i - 1,
        first: i === 0,
        last: i === length - 1,
        length,
        previtem: i > 0 ? items[i - 1] : null,
        nextitem: i < length - 1 ? items[i + 1] : null,
      });
      this.run(s.body, inner);
    });
  }
}

function assign(scope: Scope, targets: readonly string[], value: unknown, line: number): void {
  if (targets.length === 1) {
    scope.vars.set(targets[0]!, value);
    return;
  }
  if (!Array.isArray(value) || value.length !== targets.length) {
    const got = Array.isArray(value) ? `${value.length} values` : "a value that is not a list";
    throw new EvalError(`cannot unpack ${got} into ${targets.length} names (${targets.join(", ")})`, line);
  }
  targets.forEach((t, i) => scope.vars.set(t, value[i]));
}
