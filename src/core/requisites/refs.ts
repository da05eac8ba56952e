/** Requisite references as written in SLS files, and matching them to chunks. */
import { compileTagGlob } from "../glob/index.js";
import type { Chunk, RequisiteRef } from "./types.js";

/**
 * Reads a requisite list as written (`- salt: deploy`, `- deploy`, or one reference without the
 * list). Returns the references, or a reason why the value is not a requisite list.
 */
export function parseRequisiteRefs(value: unknown): RequisiteRef[] | string {
  const items = Array.isArray(value) ? value : [value];
  const refs: RequisiteRef[] = [];
  for (const item of items) {
    if (typeof item === "string" && item !== "") {
      refs.push({ key: "id", value: item });
      continue;
    }
    if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      const entries = Object.entries(item as Record<string, unknown>);
      const first = entries[0];
      if (entries.length === 1 && first && (typeof first[1] === "string" || typeof first[1] === "number") && first[1] !== "") {
        refs.push({ key: first[0], value: String(first[1]) });
        continue;
      }
    }
    return `must be a list of step ids or one-key maps (\`- salt: step_id\`), got ${JSON.stringify(item)}`;
  }
  return refs;
}

/** `salt: deploy` or `deploy`, as written, for messages. */
export function formatRef(ref: RequisiteRef): string {
  return ref.key === "id" ? ref.value : `${ref.key}: ${ref.value}`;
}

/** Compiles a reference into a test over chunks (Salt: fnmatch over name or id; key is `id`, `sls` or the state). */
export function refMatcher(ref: RequisiteRef): (c: Chunk) => boolean {
  const glob = compileTagGlob(ref.value);
  if (ref.key === "sls") return (c) => glob.test(c.sls);
  return (c) => (ref.key === "id" || ref.key === c.state) && (glob.test(c.id) || glob.test(c.name));
}

/** Salt's tag of a chunk: `state_|-id_|-name_|-fun`. */
export function chunkTag(c: Chunk): string {
  return `${c.state}_|-${c.id}_|-${c.name}_|-${c.fun}`;
}
