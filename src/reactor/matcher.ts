/**
 * Matching events against the reactor map without scanning every entry: entries are indexed by
 * the literal prefix of their tag glob in a trie of `/`-segments (full segments are edges, the
 * partial segment before the first wildcard is looked up by length), then by literal suffix. An event visits only the
 * nodes along its own tag, so the cost depends on the tag, not on the size of the map.
 */
import type { CompiledCondition, ConditionFailure } from "../core/conditions/index.js";
import { describeFailure } from "../core/conditions/index.js";
import { explainGlobMismatch, type TagGlob } from "../core/glob/index.js";

/** What the index needs of an entry. */
export interface MatchableEntry {
  readonly index: number;
  readonly glob: TagGlob;
  readonly when?: CompiledCondition;
}

/** The part of an event that matching reads. */
export interface MatchInput {
  readonly tag: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Why an entry did not match an event. */
export interface NoMatch<E> {
  readonly entry: E;
  /** `glob`: the tag glob failed; `when`: the glob matched but the condition was false. */
  readonly reason: "glob" | "when";
  /** A sentence for people. */
  readonly detail: string;
  /** For `when`: the false sub-conditions. */
  readonly failed?: readonly ConditionFailure[];
}

/** The matches of one event and, when explained, why the other entries did not match. */
export interface MatchExplanation<E> {
  readonly matched: readonly E[];
  readonly unmatched: readonly NoMatch<E>[];
}

/**
 * Entries that share a literal prefix, sub-indexed by the literal suffix of their globs (the part
 * after the last wildcard, which every matching tag ends with): `salt/beacon/<any>/service/svc1` and
 * `.../svc2` share a node but not a suffix.
 */
class Bucket {
  /** Entry positions without a literal suffix. */
  private readonly any: number[] = [];
  private readonly bySuffix = new Map<string, number[]>();
  private readonly lengths: number[] = [];

  add(suffix: string, pos: number): void {
    if (suffix === "") {
      this.any.push(pos);
      return;
    }
    const list = this.bySuffix.get(suffix);
    if (list) list.push(pos);
    else this.bySuffix.set(suffix, [pos]);
    if (!this.lengths.includes(suffix.length)) this.lengths.push(suffix.length);
  }

  collect(tag: string, out: number[]): void {
    for (const p of this.any) out.push(p);
    for (const len of this.lengths) {
      if (len > tag.length) continue;
      const hit = this.bySuffix.get(tag.slice(tag.length - len));
      if (hit) for (const p of hit) out.push(p);
    }
  }
}

interface Node {
  readonly children: Map<string, Node>;
  /** Entries whose literal prefix ends exactly at this node (after a `/`). */
  here?: Bucket;
  /** Entries whose literal prefix continues into a partial segment: partial -> entries. */
  partial?: Map<string, Bucket>;
  /** Distinct lengths of the partial keys, so a lookup slices the tag once per length. */
  partialLengths?: number[];
}

const newNode = (): Node => ({ children: new Map() });

/** An index of map entries by the literal prefix of their globs. */
export class MapIndex<E extends MatchableEntry> {
  private readonly root = newNode();
  readonly entries: readonly E[];

  constructor(entries: readonly E[]) {
    this.entries = [...entries];
    this.entries.forEach((e, pos) => this.insert(e.glob, pos));
  }

  /** Entries whose glob and condition match the event, in map order. */
  match(event: MatchInput): E[] {
    const out: E[] = [];
    for (const pos of this.candidates(event.tag)) {
      const e = this.entries[pos]!;
      if (e.glob.test(event.tag) && (e.when === undefined || e.when.test(event))) out.push(e);
    }
    return out;
  }

  /** Like match, and for every other entry the reason it did not match (scans every entry). */
  explain(event: MatchInput): MatchExplanation<E> {
    const matched: E[] = [];
    const unmatched: NoMatch<E>[] = [];
    for (const entry of this.entries) {
      if (!entry.glob.test(event.tag)) {
        unmatched.push({ entry, reason: "glob", detail: explainGlobMismatch(entry.glob, event.tag) });
        continue;
      }
      const why = entry.when?.explain(event);
      if (why === undefined || why.result) {
        matched.push(entry);
        continue;
      }
      const detail = why.error !== undefined ? `condition failed to evaluate: ${why.error}` : why.failed.map(describeFailure).join("; ");
      unmatched.push({ entry, reason: "when", detail: `condition is false: ${detail}`, failed: why.failed });
    }
    return { matched, unmatched };
  }

  /** Positions of the entries whose literal prefix is a prefix of the tag (a superset of the matches), sorted. */
  candidates(tag: string): number[] {
    const out: number[] = [];
    const segs = tag.split("/");
    let node: Node | undefined = this.root;
    let pos = 0;
    for (let i = 0; node !== undefined; i++) {
      node.here?.collect(tag, out);
      if (node.partial) this.collectPartial(node, tag, pos, out);
      const seg = segs[i];
      if (seg === undefined) break;
      node = node.children.get(seg);
      pos += seg.length + 1;
    }
    return out.length > 1 ? out.sort((a, b) => a - b) : out;
  }

  private collectPartial(node: Node, tag: string, pos: number, out: number[]): void {
    for (const len of node.partialLengths!) {
      if (pos + len > tag.length) continue;
      node.partial!.get(tag.slice(pos, pos + len))?.collect(tag, out);
    }
  }

  private insert(glob: TagGlob, pos: number): void {
    const segs = glob.literalPrefix.split("/");
    const last = segs.pop()!;
    let node = this.root;
    for (const s of segs) {
      let next = node.children.get(s);
      if (!next) node.children.set(s, (next = newNode()));
      node = next;
    }
    if (last === "") {
      (node.here ??= new Bucket()).add(glob.literalSuffix, pos);
      return;
    }
    node.partial ??= new Map();
    node.partialLengths ??= [];
    let bucket = node.partial.get(last);
    if (!bucket) node.partial.set(last, (bucket = new Bucket()));
    bucket.add(glob.literalSuffix, pos);
    if (!node.partialLengths.includes(last.length)) node.partialLengths.push(last.length);
  }
}
