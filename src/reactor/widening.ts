/**
 * Targets from event data never widen (docs/security.md "Targets from event data"): each reaction
 * whose target (`tgt` of a local reaction, `match` of a wheel key function) holds targeting syntax
 * is compared with the same reaction rendered from the neutralised event; syntax that only the
 * event brought refuses the reaction. Files without targeting syntax in their targets cost nothing.
 */
import { hasTargetSyntax, neutraliseData, neutraliseString, widenedSyntax } from "../core/targeting/index.js";
import type { Reaction, TargetType } from "../core/reaction.js";
import { normaliseSls, type LowChunk, type ReactionProblem } from "./normalise.js";
import type { MatchInput } from "./matcher.js";

/** The target a reaction selects agents or keys with, and its syntax. */
function targetOf(r: Reaction): { field: string; value: string | readonly string[]; type: TargetType | "key-glob" } | undefined {
  if (r.client === "local" && r.tgt !== undefined) return { field: "tgt", value: r.tgt, type: r.tgt_type ?? "glob" };
  const match = r.kwarg["match"];
  if (r.client === "wheel" && r.fun.startsWith("key.") && (typeof match === "string" || (Array.isArray(match) && match.every((m) => typeof m === "string")))) {
    return { field: "match", value: match as string | string[], type: "key-glob" };
  }
  return undefined;
}

/** The chunks whose targets are the author's, and a problem per refused one. */
export function refuseWidenedTargets(
  chunks: readonly LowChunk[],
  event: MatchInput,
  file: string,
  render: (event: MatchInput) => unknown,
): { kept: LowChunk[]; refused: ReactionProblem[] } {
  const suspects = chunks.filter((c) => {
    const t = targetOf(c.reaction);
    return t !== undefined && hasTargetSyntax(t.value, t.type);
  });
  if (suspects.length === 0) return { kept: [...chunks], refused: [] };
  let neutral: readonly LowChunk[] = [];
  try {
    const value = render({ tag: neutraliseString(event.tag), data: neutraliseData(event.data) as Record<string, unknown> });
    neutral = normaliseSls(value, file).chunks;
  } catch {
    neutral = []; // the neutral render failed: nothing proves the targets are the author's
  }
  const pair = (c: LowChunk): LowChunk | undefined => {
    const i = chunks.indexOf(c);
    const same = (n: LowChunk | undefined) => n !== undefined && n.reaction.client === c.reaction.client && n.reaction.fun === c.reaction.fun;
    if (neutral.length === chunks.length && same(neutral[i])) return neutral[i];
    const id = neutraliseString(c.reaction.id);
    return neutral.find((n) => same(n) && n.reaction.id === id);
  };
  const kept: LowChunk[] = [];
  const refused: ReactionProblem[] = [];
  for (const c of chunks) {
    const t = suspects.includes(c) ? targetOf(c.reaction) : undefined;
    const n = t ? pair(c) : undefined;
    const nt = n ? targetOf(n.reaction) : undefined;
    const why = t ? widenedSyntax(t.value, nt?.value, t.type) : undefined;
    if (t === undefined || why === undefined) {
      kept.push(c);
      continue;
    }
    refused.push({
      file,
      line: null,
      message: `${c.reaction.id}.${c.reaction.client}.${c.reaction.fun}.${t.field} ${JSON.stringify(t.value)} (${t.type}) refused: ${why}; a target from event data never widens (write the targeting syntax in the reaction, or target the sender with its id)`,
    });
  }
  return { kept, refused };
}
