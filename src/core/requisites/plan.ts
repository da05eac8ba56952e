/**
 * planRun: checks requisites before anything runs (every reference names a step, no cycles),
 * expands the `_in` forms and orders the chunks as Salt does (order_chunks with state_auto_order).
 */
import { RequisiteCycleError, RequisiteError } from "../errors.js";
import { chunkTag, formatRef, refMatcher } from "./refs.js";
import {
  PREREQ_KINDS,
  REQUISITE_IN_KINDS,
  REQUISITE_KINDS,
  type Chunk,
  type Plan,
  type PlannedChunk,
  type RequisiteKind,
  type RequisiteRef,
  type ResolvedRequisite,
} from "./types.js";

/** Options of a plan. */
export interface PlanOptions {
  /** Run-wide failhard (Salt's `failhard` option); default false. */
  readonly failhard?: boolean;
  /**
   * `throw` (default, orchestration): a reference that names no chunk, or a cycle, throws before
   * anything runs. `report` (state runs, as Salt): the chunk keeps its `lost` references or is
   * marked `recursive`, and the run reports it as that chunk's failed result.
   */
  readonly missing?: "throw" | "report";
  /** Accept `prereq` and `prereq_in` (state runs). */
  readonly prereq?: boolean;
}

const ALL_KINDS: readonly RequisiteKind[] = [...REQUISITE_KINDS, ...PREREQ_KINDS];

interface Resolved {
  readonly edges: Map<RequisiteKind, number[]>[];
  readonly lost: Map<string, RequisiteRef[]>[];
}

/** First auto order (Salt's iorder starts at 10000). */
const AUTO_ORDER_BASE = 10000;

/**
 * Orders, resolves and checks chunks. Throws RequisiteError for a reference that names no step or
 * an unknown requisite, RequisiteCycleError for a cycle.
 */
export function planRun<P>(chunks: readonly Chunk<P>[], opts: PlanOptions = {}): Plan<P> {
  const ordered = orderChunks(chunks);
  const r: Resolved = { edges: ordered.map(() => new Map()), lost: ordered.map(() => new Map()) };
  ordered.forEach((chunk, i) => resolveChunk(chunk, i, ordered, r, opts));
  const planned: PlannedChunk<P>[] = ordered.map((chunk, i) => {
    const lost = r.lost[i]!;
    return {
      chunk,
      tag: chunkTag(chunk),
      requisites: ALL_KINDS.flatMap((kind): ResolvedRequisite[] => {
        const targets = r.edges[i]!.get(kind);
        return targets ? [{ kind, targets }] : [];
      }),
      ...(lost.size > 0 ? { lost: Object.fromEntries(lost) } : {}),
    };
  });
  return { chunks: opts.missing === "report" ? breakCycles(planned) : (checkCycles(planned), planned), failhard: opts.failhard ?? false };
}

function resolveChunk(chunk: Chunk, i: number, all: readonly Chunk[], r: Resolved, opts: PlanOptions): void {
  const kinds: readonly string[] = opts.prereq ? ALL_KINDS.filter((k) => k !== "prerequired") : REQUISITE_KINDS;
  const inKinds: readonly string[] = opts.prereq ? [...REQUISITE_IN_KINDS, "prereq_in"] : REQUISITE_IN_KINDS;
  for (const [field, refs] of Object.entries(chunk.requisites ?? {})) {
    const reverse = inKinds.includes(field);
    if (!reverse && !kinds.includes(field)) {
      throw new RequisiteError(chunk.id, field, `is not a supported requisite (use ${[...kinds, ...inKinds].join(", ")})`);
    }
    for (const ref of refs ?? []) {
      const test = refMatcher(ref);
      const found = all.flatMap((c, j) => (test(c) ? [j] : []));
      if (found.length === 0) {
        if (opts.missing !== "report") throw new RequisiteError(chunk.id, `${field} "${formatRef(ref)}"`, "matches no step");
        r.lost[i]!.set(field, [...(r.lost[i]!.get(field) ?? []), ref]);
      }
      for (const j of found) {
        const kind = (reverse ? field.slice(0, -3) : field) as RequisiteKind;
        const [from, to] = reverse ? [j, i] : [i, j];
        add(r.edges[from]!, kind, to);
        if (kind === "prereq") add(r.edges[to]!, "prerequired", from);
      }
    }
  }
}

function add(map: Map<RequisiteKind, number[]>, kind: RequisiteKind, target: number): void {
  const list = map.get(kind) ?? [];
  if (!list.includes(target)) list.push(target);
  map.set(kind, list);
}

/**
 * Salt's "Recursive requisite found" instead of a throw: the chunk whose requisite closes a cycle
 * loses its requisites and is marked `recursive`; repeated until no cycle is left.
 */
function breakCycles<P>(chunks: PlannedChunk<P>[]): PlannedChunk<P>[] {
  for (;;) {
    try {
      checkCycles(chunks, true);
      return chunks;
    } catch (err) {
      if (!(err instanceof CycleAt)) throw err;
      const c = chunks[err.at]!;
      chunks[err.at] = { ...c, requisites: [], recursive: true };
    }
  }
}

/** Where checkCycles found a back edge (internal to breakCycles). */
class CycleAt extends Error {
  constructor(
    readonly at: number,
    readonly error: RequisiteCycleError,
  ) {
    super(error.message);
  }
}

/** Depth-first search for a cycle; reports the first one found with the requisites that form it. */
function checkCycles(chunks: readonly PlannedChunk[], report = false): void {
  const state = new Array<0 | 1 | 2>(chunks.length).fill(0);
  const stack: { at: number; via: string }[] = [];
  const visit = (i: number, via: string): void => {
    state[i] = 1;
    stack.push({ at: i, via });
    for (const req of chunks[i]!.requisites) {
      if (req.kind === "prerequired") continue;
      for (const t of req.targets) {
        if (state[t] === 1) {
          const error = cycleError(chunks, stack, t, req.kind);
          throw report ? new CycleAt(i, error) : error;
        }
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
