/**
 * Salt's check_requisite: what the results of a chunk's requisites say it should do.
 * `met` run it; `change` run it (and mod_watch if it made no changes); `fail` a requisite failed;
 * `onfail` no watched step failed; `onchanges` no watched step changed.
 */
import type { PlannedChunk, StepResult } from "./types.js";

/** The verdict on a chunk's requisites (`pre`: its prereqs would not change, so it does not run). */
export type RequisiteStatus = "met" | "change" | "fail" | "onfail" | "onchanges" | "unmet" | "pre";

/** A result as the status check reads it. */
type Seen = Pick<StepResult, "result" | "changes" | "__state_ran__">;

/**
 * Computes the status of `chunk` from the results of the chunks it names (by index). `prereq`
 * requisites read `preOf` (the test-mode look); `prerequired` ones are read only when `pre` is
 * true (Salt skips them while the chunk is itself being looked at for a prereq).
 */
export function checkRequisites(
  chunk: PlannedChunk,
  resultOf: (index: number) => Seen | undefined,
  preOf: (index: number) => Seen | undefined = () => undefined,
  pre = true,
): RequisiteStatus {
  const stats = new Set<string>();
  for (const { kind, targets } of chunk.requisites) {
    if (kind === "prerequired" && !pre) continue;
    const req = new Set<string>();
    for (const t of targets) for (const s of statOf(kind, kind === "prereq" ? preOf(t) : resultOf(t))) req.add(s);
    if (kind.endsWith("_any") || kind === "onfail") {
      if (req.has("met") || req.has("change")) req.delete("fail");
      if (req.has("onchangesmet")) {
        req.delete("onchanges");
        req.delete("fail");
      }
      if (req.has("onfail") && req.has("met")) req.delete("onfail");
    }
    if (kind.endsWith("_all") && req.has("onfail")) req.delete("met");
    for (const s of req) stats.add(s);
  }
  if (stats.has("unmet")) return "unmet";
  if (stats.has("fail")) return "fail";
  if (stats.has("pre")) return stats.has("premet") ? "met" : "pre";
  if (stats.has("onfail") && !stats.has("onchangesmet")) return "onfail";
  if (stats.has("onchanges") && !stats.has("onchangesmet")) return "onchanges";
  if (stats.has("change")) return "change";
  if (stats.has("onfail")) return "onfail";
  return "met";
}

function statOf(kind: string, r: Seen | undefined): string[] {
  // A prerequired chunk that could not be waited for (a prereq loop) only orders, it does not block.
  if (!r) return kind === "prerequired" ? [] : ["unmet"];
  if (kind.startsWith("onfail")) {
    if (r.result === true) return ["onfail"];
  } else if (r.result === false) return ["fail"];
  if (kind.startsWith("onchanges")) return [hasChanges(r) ? "onchangesmet" : "onchanges"];
  if (kind.startsWith("watch") && hasChanges(r)) return ["change"];
  // Salt: a prereq that would change (result None in test mode) is "premet" and also met;
  // one that would not change is "pre" (the chunk is skipped with "No changes detected").
  if (kind === "prereq") return r.result === null ? ["premet", ...ran(r)] : ["pre"];
  return ran(r);
}

function ran(r: Seen): string[] {
  return r.__state_ran__ === false ? [] : ["met"];
}

/** Whether a result reports changes. */
export function hasChanges(r: { readonly changes: Readonly<Record<string, unknown>> }): boolean {
  return Object.keys(r.changes).length > 0;
}
