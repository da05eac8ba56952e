/** The template engine for SLS files (DESIGN.md 3.3): Jinja2-compatible, strict and sandboxed. */
export { compileTemplate, defaultOutput } from "./template.js";
export type { OutputHook, Template, TemplateOptions } from "./template.js";
export { shellQuote } from "./filters.js";
export { pyNumber, pyRepr } from "./pyrepr.js";
export { isKwargs, KWARGS, TemplateSuspend } from "./values.js";
