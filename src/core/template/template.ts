/**
 * compileTemplate: a Jinja2-compatible template engine for reactor and orchestration SLS files.
 * Compiled once into a statement tree, rendered many times. Undefined names and attributes are
 * errors (Salt's StrictUndefined); attribute access never reaches prototypes; only whitelisted
 * methods and filters, and functions the caller put in the context, can be called.
 */
import { TemplateError } from "../errors.js";
import type { Expr, Param, Stmt } from "./ast.js";
import { evaluate, need, Scope } from "./evaluate.js";
import { SERIALISING_FILTERS, toJson } from "./filters.js";
import { parseTemplate } from "./parser.js";
import { EvalError, isKwargs, iterate, str, TemplateSuspend, truthy } from "./values.js";

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

/** How `include`, `import` and `from` find other templates, and how data tags parse YAML. */
export interface TemplateOptions {
  /**
   * Resolves a template name used in `template` (sync). `undefined`: not found. May throw
   * TemplateSuspend when it must fetch the file first.
   */
  readonly loader?: (name: string, fromFile: string) => { readonly source: string; readonly file: string } | undefined;
  /** Parses YAML for `import_yaml` / `load_yaml` (the core does not import a YAML library). */
  readonly parseYaml?: (text: string, file: string) => unknown;
}

/** Compiles `source`; syntax errors throw a TemplateError naming `file` and the line. */
export function compileTemplate(source: string, file: string, opts: TemplateOptions = {}): Template {
  const body = parseTemplate(source, file);
  const loaded = new Map<string, { body: readonly Stmt[]; file: string }>();
  return {
    file,
    render: (context, out = defaultOutput) => {
      const r = new Renderer(out, { ...opts, loaded }, context);
      return r.runFile(body, file, new Scope(null, context));
    },
  };
}

/** Thrown by `{% break %}` / `{% continue %}`, caught by the loop. */
class LoopControl {
  constructor(readonly kind: "break" | "continue") {}
}

/** A macro's body renders into its own text. */
type Macro = (...args: unknown[]) => string;

class Renderer {
  text = "";
  /** Line of the statement being run, for errors that carry none. */
  line = 1;
  /** The template file being run (errors name it). */
  private file = "";
  /** The `caller` for the macro about to be called by `{% call %}`. */
  private pendingCaller: Macro | undefined;
  constructor(
    private readonly out: OutputHook,
    private readonly opts: TemplateOptions & { readonly loaded: Map<string, { body: readonly Stmt[]; file: string }> },
    private readonly root: Readonly<Record<string, unknown>>,
  ) {}

  /** Runs a whole template file; errors are TemplateErrors naming it (included files name theirs). */
  runFile(body: readonly Stmt[], file: string, scope: Scope): string {
    const outer = { file: this.file, line: this.line, text: this.text };
    this.file = file;
    this.text = "";
    try {
      this.run(body, scope);
      return this.text;
    } catch (err) {
      if (err instanceof TemplateSuspend || err instanceof TemplateError || err instanceof LoopControl) throw err;
      if (err instanceof EvalError) throw new TemplateError({ file, line: err.line ?? this.line }, err.message);
      throw new TemplateError({ file, line: this.line }, `render failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      this.file = outer.file;
      this.line = outer.line;
      this.text = outer.text;
    }
  }

  /** The text `body` renders to in `scope`, without touching the current output. */
  private capture(body: readonly Stmt[], scope: Scope): string {
    const saved = this.text;
    this.text = "";
    try {
      this.run(body, scope);
      return this.text;
    } finally {
      this.text = saved;
    }
  }

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
        case "break":
        case "continue":
          throw new LoopControl(s.k);
        default:
          this.block(s, scope);
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
    for (let i = 0; i < length; i++) {
      const x = items[i];
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
        cycle: (...xs: unknown[]) => (xs.length ? xs[i % xs.length] : null),
        depth: 1,
        depth0: 0,
      });
      try {
        this.run(s.body, inner);
      } catch (err) {
        if (!(err instanceof LoopControl)) throw err;
        if (err.kind === "break") break;
      }
    }
  }

  /** The statements of template structure: macros, imports, includes, data tags, blocks. */
  private block(s: Stmt, scope: Scope): void {
    switch (s.k) {
      case "setblock":
        scope.vars.set(s.target, this.capture(s.body, new Scope(scope, scope.context)));
        return;
      case "macro":
        scope.vars.set(s.name, this.macro(s.params, s.body, scope));
        return;
      case "callblock": {
        this.pendingCaller = this.macro(s.params, s.body, scope);
        try {
          this.text += this.out(need(evaluate(s.call, scope)), null);
        } finally {
          this.pendingCaller = undefined;
        }
        return;
      }
      case "import":
        scope.vars.set(s.alias, this.module(s.template, scope, s.withContext, s.line));
        return;
      case "from": {
        const mod = this.module(s.template, scope, s.withContext, s.line);
        for (const [name, alias] of s.names) {
          if (!Object.hasOwn(mod, name)) throw new EvalError(`the template does not export the requested name '${name}'`, s.line);
          scope.vars.set(alias, mod[name]);
        }
        return;
      }
      case "include": {
        const value = need(evaluate(s.template, scope));
        const names = (Array.isArray(value) ? value : [value]).map(String);
        // A list: the first template that exists (Jinja's select_template).
        const t = names.map((n) => this.load(n, s.line, true)).find((x) => x !== undefined);
        if (!t) {
          if (s.ignoreMissing) return;
          throw new EvalError(`template not found: ${names.join(", ")}`, s.line);
        }
        this.text += this.runFile(t.body, t.file, s.withContext ? new Scope(scope, scope.context) : new Scope(null, this.root));
        return;
      }
      case "importdata": {
        const name = String(need(evaluate(s.template, scope)));
        const t = this.load(name, s.line, false)!;
        scope.vars.set(s.alias, this.parseData(s.kind, this.runFile(t.body, t.file, new Scope(null, this.root)), t.file, s.line));
        return;
      }
      case "loaddata":
        scope.vars.set(s.target, this.parseData(s.kind, this.capture(s.body, new Scope(scope, scope.context)), this.file, s.line));
        return;
      case "do":
        need(evaluate(s.expr, scope));
        return;
      case "with": {
        const inner = new Scope(scope, scope.context);
        for (const [name, e] of s.assigns) inner.vars.set(name, need(evaluate(e, scope)));
        this.run(s.body, inner);
        return;
      }
      default:
        throw new EvalError(`unsupported statement '${s.k}'`, s.line);
    }
  }

  /** A macro: a function of its parameters that renders its body (closing over `scope`). */
  private macro(params: readonly Param[], body: readonly Stmt[], scope: Scope): Macro {
    return (...raw: unknown[]) => {
      const caller = this.pendingCaller;
      this.pendingCaller = undefined;
      const last = raw[raw.length - 1];
      const kw = isKwargs(last) ? { ...last } : {};
      const args = isKwargs(last) ? raw.slice(0, -1) : raw;
      const inner = new Scope(scope, scope.context);
      params.forEach((p, i) => {
        if (i < args.length) inner.vars.set(p.name, args[i]);
        else if (Object.hasOwn(kw, p.name)) inner.vars.set(p.name, kw[p.name]);
        else if (p.def) inner.vars.set(p.name, need(evaluate(p.def, inner)));
        else throw new EvalError(`macro missing an argument '${p.name}'`);
        delete kw[p.name];
      });
      inner.vars.set("varargs", args.slice(params.length));
      inner.vars.set("kwargs", kw);
      if (caller) inner.vars.set("caller", caller);
      return this.capture(body, inner);
    };
  }

  /** A template loaded by name, compiled once per render of the importing template. */
  private load(name: string, line: number, ignoreMissing: boolean): { body: readonly Stmt[]; file: string } | undefined {
    const key = `${this.file}\0${name}`;
    let t = this.opts.loaded.get(key);
    if (!t) {
      const found = this.opts.loader?.(name, this.file);
      if (!found) {
        if (ignoreMissing) return undefined;
        throw new EvalError(`template not found: ${name}${this.opts.loader ? "" : " (templates cannot load other files here)"}`, line);
      }
      t = { body: parseTemplate(found.source, found.file), file: found.file };
      this.opts.loaded.set(key, t);
    }
    return t;
  }

  /** `import`: the template run once; its top-level names (macros, sets) as a mapping. */
  private module(template: Expr, scope: Scope, withContext: boolean, line: number): Record<string, unknown> {
    const name = String(need(evaluate(template, scope)));
    const t = this.load(name, line, false)!;
    const inner = withContext ? new Scope(scope, scope.context) : new Scope(null, this.root);
    this.runFile(t.body, t.file, inner);
    const mod: Record<string, unknown> = {};
    for (const [k, v] of inner.vars) if (!k.startsWith("_")) mod[k] = v;
    return mod;
  }

  private parseData(kind: "yaml" | "json" | "text", text: string, file: string, line: number): unknown {
    if (kind === "text") return text;
    try {
      if (kind === "json") return JSON.parse(text) as unknown;
      if (!this.opts.parseYaml) throw new Error("YAML is not available to this template");
      return this.opts.parseYaml(text, file);
    } catch (err) {
      throw new EvalError(`cannot load ${kind} from ${file}: ${err instanceof Error ? err.message : String(err)}`, line);
    }
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
