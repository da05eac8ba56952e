/**
 * planRun: checks requisites before anything runs (every reference names a step, no cycles),
 * expands the `_in` forms and orders the chunks as Salt does (order_chunks with state_auto_order).
 */
import { RequisiteCycleError, RequisiteError } from "../errors.js";
import { chunkTag, formatRef, refMatcher } from "./refs.js";
import { REQUISITE_IN_KINDS, REQUISITE_KINDS, type Chunk, type Plan, type PlannedChunk, type RequisiteKind, type ResolvedRequisite } from "./types.js";

/** Options of a plan. */
export interface PlanOptions {
  /** Run-wide failhard (Salt's `failhard` option); default false. */
  readonly failhard?: boolean;
}

/** First auto order (Salt's iorder starts at 10000). */
const AUTO_ORDER_BASE = 10000;

/**
 * Orders, resolves and checks chunks. Throws RequisiteError for a reference that names no step or
 * an unknown requisite, RequisiteCycleError for a cycle.
 */
export function planRun<P>(chunks: readonly Chunk<P>[], opts: PlanOptions = {}): Plan<P> {
  const ordered = orderChunks(chunks);
  const edges = ordered.map(() => new Map<RequisiteKind, number[]>());
  ordered.forEach((chunk, i) => resolveChunk(chunk, i, ordered, edges));
  const planned: PlannedChunk<P>[] = ordered.map((chunk, i) => ({
    chunk,
    tag: chunkTag(chunk),
    requisites: REQUISITE_KINDS.flatMap((kind): ResolvedRequisite[] => {
      const targets = edges[i]!.get(kind);
      return targets ? [{ kind, targets }] : [];
    }),
  }));
  checkCycles(planned);
  return { chunks: planned, failhard: opts.failhard ?? false };
}

function resolveChunk(chunk: Chunk, i: number, all: readonly Chunk[], edges: Map<RequisiteKind, number[]>[]): void {
  for (const [field, refs] of Object.entries(chunk.requisites ?? {})) {
    const reverse = (REQUISITE_IN_KINDS as readonly string[]).includes(field);
    if (!reverse && !(REQUISITE_KINDS as readonly string[]).includes(field)) {
      throw new RequisiteError(chunk.id, field, `is not a supported requisite (use ${[...REQUISITE_KINDS, ...REQUISITE_IN_KINDS].join(", ")})`);
    }
    for (const ref of refs ?? []) {
      const test = refMatcher(ref);
      const found = all.flatMap((c, j) => (test(c) ? [j] : []));
      if (found.length === 0) throw new RequisiteError(chunk.id, `${field} "${formatRef(ref)}"`, "matches no step");
      for (const j of found) {
        if (reverse) add(edges[j]!, field.slice(0, -3) as RequisiteKind, i);
        else add(edges[i]!, field as RequisiteKind, j);
      }
    }
  }
}

function add(map: Map<RequisiteKind, number[]>, kind: RequisiteKind, target: number): void {
  const list = map.get(kind) ?? [];
  if (!list.includes(target)) list.push(target);
  map.set(kind, list);
}

/** Depth-first search for a cycle; reports the first one found with the requisites that form it. */
function checkCycles(chunks: readonly PlannedChunk[]): void {
  const state = new Array<0 | 1 | 2>(chunks.length).fill(0);
  const stack: { at: number; via: string }[] = [];
  const visit = (i: number, via: string): void => {
    state[i] = 1;
    stack.push({ at: i, via });
    for (const req of chunks[i]!.requisites) {
      for (const t of req.targets) {
        if (state[t] === 1) throw cycleError(chunks, stack, t, req.kind);
        if (state[t] === 0) visit(t, req.kind);
      }
    }
    stack.pop();
    state[i] = 2;
  };
  chunks.forEach((_c, i) => {
    if (state[i] === 0) visit(i, "");
  });
}

function cycleError(chunks: readonly PlannedChunk[], stack: readonly { at: number; via: string }[], back: number, kind: string): RequisiteCycleError {
  const from = stack.findIndex((s) => s.at === back);
  const loop = stack.slice(from);
  const ids = [...loop.map((s) => chunks[s.at]!.chunk.id), chunks[back]!.chunk.id];
  const edges = loop.map((s, k) => {
    const next = loop[k + 1];
    return `${chunks[s.at]!.chunk.id} (${next ? next.via : kind} ${chunks[next ? next.at : back]!.chunk.id})`;
  });
  return new RequisiteCycleError(ids, [...edges, chunks[back]!.chunk.id]);
}

/** Salt's order_chunks with auto-order: unordered chunks keep their definition order. */
export function orderChunks<P>(chunks: readonly Chunk<P>[]): Chunk<P>[] {
  const numeric = chunks.map((c, i) => (c.order === undefined ? AUTO_ORDER_BASE + i : c.order));
  let cap = 1;
  for (const o of numeric) if (typeof o === "number" && Number.isInteger(o) && o > cap - 1 && o > 0) cap = o + 100;
  const rank = numeric.map((o) => {
    const n = o === "first" ? 0 : o === "last" ? cap + 1000000 : o;
    return n < 0 ? cap + 1000000 + n : n;
  });
  const keyed = chunks.map((c, i) => ({ c, r: rank[i]!, s: `${c.state}${c.name}${c.fun}`, i }));
  keyed.sort((a, b) => a.r - b.r || (a.s < b.s ? -1 : a.s > b.s ? 1 : a.i - b.i));
  return keyed.map((k) => k.c);
}
