/**
 * `reactor test`: what an event would trigger, without executing anything. Uses the same match,
 * render and normalise functions as the live service.
 */
import { renderTemplateText, type ServiceConfig, type ReactorMapEntry } from "../config/index.js";
import { errorMessage } from "../core/errors.js";
import type { TargetType } from "../core/reaction.js";
import { MapIndex, type MatchInput } from "./matcher.js";
import { filesOf, renderReactions, type RenderOptions } from "./render.js";
import type { ReactionProblem } from "./normalise.js";

/** One matched entry as reported. */
export interface DryRunMatch {
  readonly glob: string;
  /** SLS paths as written in the map. */
  readonly sls: readonly string[];
}

/** One reaction as reported. */
export interface DryRunReaction {
  readonly id: string;
  readonly file: string;
  readonly client: string;
  readonly fun: string;
  readonly tgt: string | readonly string[] | null;
  readonly tgt_type: TargetType | null;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
}

/** One entry that did not match, and why. */
export interface DryRunNoMatch {
  readonly glob: string;
  readonly name: string;
  readonly reason: "glob" | "when";
  readonly detail: string;
}

/** The plain rendered text of one matched file (before YAML), or why there is none. */
export type DryRunRendered = { readonly file: string; readonly text: string } | { readonly file: string; readonly error: string };

/** The result of a dry run (the `--json` output of `reactor test`). */
export interface DryRunResult {
  readonly tag: string;
  readonly matches: readonly DryRunMatch[];
  readonly reactions: readonly DryRunReaction[];
  readonly errors: readonly ReactionProblem[];
  /** Only with `explain`. */
  readonly explain?: {
    readonly not_matched: readonly DryRunNoMatch[];
    readonly warnings: readonly ReactionProblem[];
    /** Each matched file's rendered text, so a false `{% if %}` that rendered nothing is visible. */
    readonly rendered: readonly DryRunRendered[];
  };
}

/** Options of a dry run. */
export interface DryRunOptions extends RenderOptions {
  /** Also report why the other entries did not match, and warnings. */
  readonly explain?: boolean;
  /** A prebuilt index of `config.reactor` (built when absent). */
  readonly index?: MapIndex<ReactorMapEntry>;
}

/** Matches, renders and normalises one event against the map. */
export function dryRun(config: Pick<ServiceConfig, "reactor">, event: MatchInput, opts: DryRunOptions = {}): DryRunResult {
  const index = opts.index ?? new MapIndex(config.reactor);
  const explained = opts.explain ? index.explain(event) : undefined;
  const matched = explained ? explained.matched : index.match(event);
  const rendered = renderReactions(event, matched, opts);
  const result: DryRunResult = {
    tag: event.tag,
    matches: matched.map((e) => ({ glob: e.tag, sls: e.sls.map((r) => r.written) })),
    reactions: rendered.reactions.map((r) => ({
      id: r.id,
      file: r.file,
      client: r.client,
      fun: r.fun,
      tgt: r.tgt ?? null,
      tgt_type: r.tgt_type ?? null,
      arg: r.arg,
      kwarg: r.kwarg,
    })),
    errors: rendered.errors,
  };
  if (!explained) return result;
  const notMatched = explained.unmatched.map((u) => ({ glob: u.entry.tag, name: u.entry.name, reason: u.reason, detail: u.detail }));
  const texts = filesOf(matched).map((f) => renderedText(f, event, opts));
  return { ...result, explain: { not_matched: notMatched, warnings: rendered.warnings, rendered: texts } };
}

/** The text Salt's template step would hand to YAML, with the context renderSlsFile gives. */
function renderedText(file: ReturnType<typeof filesOf>[number], event: MatchInput, opts: RenderOptions): DryRunRendered {
  const mine = opts.mine ?? (() => ({}));
  const context = { tag: event.tag, data: event.data, mine, salt: { "mine.get": mine }, opts: {} };
  try {
    return { file: file.path, text: renderTemplateText(file.sls, context) };
  } catch (err) {
    // A missing file has no template (TypeError): its error is already in `errors`.
    return { file: file.path, error: err instanceof TypeError ? "not rendered (see errors)" : errorMessage(err) };
  }
}
