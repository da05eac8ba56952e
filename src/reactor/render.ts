/**
 * Rendering the SLS files of matched entries for one event and turning them into ordered
 * reactions. A file that fails to render (or whose output is not valid reaction data) drops its
 * own reactions for this event only; the other files still count.
 */
import { ReactorError, TemplateError, ConfigError, errorMessage } from "../core/errors.js";
import type { Reaction } from "../core/reaction.js";
import type { ReactorMapEntry, SlsFile } from "../config/index.js";
import { normaliseSls, orderChunks, type LowChunk, type ReactionProblem } from "./normalise.js";
import type { MatchInput } from "./matcher.js";
import { refuseWidenedTargets } from "./widening.js";

/** A mine lookup as templates call it: `mine('web*', 'network.ip_addrs')`. */
export type MineLookup = (tgt: string, fun: string, tgtType?: string) => unknown;

/** Options of rendering. */
export interface RenderOptions {
  /** The mine lookup offered to templates. Default: one that returns {}. */
  readonly mine?: MineLookup;
}

/** The reactions of one event, in Salt's order, with the problems met. */
export interface RenderResult {
  readonly reactions: readonly Reaction[];
  readonly errors: readonly ReactionProblem[];
  readonly warnings: readonly ReactionProblem[];
  /** Reactions refused because event data widened their target (also listed in `errors`). */
  readonly widened: readonly ReactionProblem[];
}

const emptyMine: MineLookup = () => ({});

/** The distinct SLS files of the matched entries, in map order (a file listed twice renders once). */
export function filesOf(entries: readonly ReactorMapEntry[]): SlsFile[] {
  const seen = new Set<string>();
  const out: SlsFile[] = [];
  for (const e of entries) {
    for (const ref of e.sls) {
      for (const f of ref.files) {
        if (!seen.has(f.absPath)) {
          seen.add(f.absPath);
          out.push(f);
        }
      }
    }
  }
  return out;
}

/** Renders one SLS file for an event; the rendered value (null when empty) or the problem. */
export function renderSlsFile(file: SlsFile, event: MatchInput, opts: RenderOptions = {}): { value: unknown } | { error: ReactionProblem } {
  const mine = opts.mine ?? emptyMine;
  const context = {
    tag: event.tag,
    // No copy: templates cannot mutate (no mutating methods, `set` binds names only), and sls.ts
    // copies every value it places into a reaction.
    data: event.data,
    mine,
    salt: { "mine.get": mine },
    opts: {},
  };
  try {
    return { value: file.sls.render(context) };
  } catch (err) {
    return { error: problemOf(err, file.path) };
  }
}

/** Renders every file of the matched entries and returns the ordered reactions (match -> render -> normalise). */
export function renderReactions(event: MatchInput, entries: readonly ReactorMapEntry[], opts: RenderOptions = {}): RenderResult {
  const errors: ReactionProblem[] = [];
  const warnings: ReactionProblem[] = [];
  const widened: ReactionProblem[] = [];
  const byId = new Map<string, { file: string; chunks: LowChunk[] }>();
  for (const file of filesOf(entries)) {
    const rendered = renderSlsFile(file, event, opts);
    if ("error" in rendered) {
      errors.push(rendered.error);
      continue;
    }
    const res = normaliseSls(rendered.value, file.path);
    warnings.push(...res.warnings);
    if (res.errors.length > 0) {
      errors.push(...res.errors);
      continue;
    }
    const guarded = refuseWidenedTargets(res.chunks, event, file.path, (ev) => {
      const r = renderSlsFile(file, ev, opts);
      if ("error" in r) throw new Error(r.error.message);
      return r.value;
    });
    widened.push(...guarded.refused);
    errors.push(...guarded.refused);
    for (const [id, chunks] of groupById(guarded.kept)) {
      const earlier = byId.get(id);
      if (earlier) {
        warnings.push({ file: file.path, line: null, message: `${id} replaces the reaction of the same id from ${earlier.file}` });
      }
      byId.set(id, { file: file.path, chunks });
    }
  }
  const all = [...byId.values()].flatMap((v) => v.chunks);
  return { reactions: orderChunks(all).map((c) => c.reaction), errors, warnings, widened };
}

function groupById(chunks: readonly LowChunk[]): Map<string, LowChunk[]> {
  const out = new Map<string, LowChunk[]>();
  for (const c of chunks) {
    const list = out.get(c.reaction.id);
    if (list) list.push(c);
    else out.set(c.reaction.id, [c]);
  }
  return out;
}

function problemOf(err: unknown, file: string): ReactionProblem {
  if (err instanceof TemplateError) {
    return { file: err.location.file, line: err.location.line ?? null, message: err.reason };
  }
  if (err instanceof ConfigError) {
    const path = err.location.path ? `${err.location.path} ` : "";
    return { file: err.location.file, line: err.location.line ?? null, message: `${path}${err.reason}` };
  }
  return { file, line: null, message: err instanceof ReactorError ? err.message : `render failed: ${errorMessage(err)}` };
}
