/** Unified diffs for file changes, as Salt's get_diff prints them (`--- `/`+++ ` without names). */
import { structuredPatch } from "diff";

/** The unified diff of two texts (three lines of context). */
export function unifiedDiff(before: string, after: string): string {
  const patch = structuredPatch("", "", before, after, "", "", { context: 3 });
  const lines = ["--- ", "+++ "];
  for (const h of patch.hunks) {
    lines.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`);
    lines.push(...h.lines.filter((l) => !l.startsWith("\\")));
  }
  return `${lines.join("\n")}\n`;
}

function range(start: number, count: number): string {
  if (count === 1) return String(start);
  return `${count === 0 ? start - 1 : start},${count}`;
}
