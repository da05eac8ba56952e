/**
 * A live in-memory copy of the mine and minions buckets, for synchronous lookups: reactor templates
 * render synchronously, so their `mine` helper is `cache.lookup(tgt, fun, tgtType)`, a plain
 * function. Kept current by KV watches; same answers as MineReader.get.
 */
import { compileTarget } from "../core/targeting/index.js";
import type { TargetType } from "../core/index.js";
import { KvMirror } from "./mirror.js";
import type { MineReader } from "./reader.js";
import { selectMine, type MineGetOptions, type MineResult, type MineView } from "./select.js";
import { parseMineKey, type MineEntry, type MinionInfo } from "./store.js";

/** The cache. */
export interface MineCache {
  /** Synchronous mine.get: `{minion: value}` (or `{fun: {minion: value}}`). Throws TargetSyntaxError. */
  lookup(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): Record<string, unknown>;
  /** lookup behind MineReader.get's signature, for code that takes either. */
  get(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): Promise<Record<string, unknown>>;
  /** As lookup, with what was left out and why. */
  query(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): MineResult;
  /** Stops the watches. Idempotent. */
  stop(): void;
}

/** Loads both buckets and follows their changes; resolves when the copy is complete. */
export async function createMineCache(reader: MineReader): Promise<MineCache> {
  const log = reader.context.log;
  const minions = await KvMirror.start<MinionInfo>(reader.minions, ">", log);
  let mine: KvMirror<MineEntry>;
  try {
    mine = await KvMirror.start<MineEntry>(reader.mine, ">", log);
  } catch (err) {
    minions.stop();
    throw err;
  }
  const view = buildView(minions, mine);
  const query: MineCache["query"] = (tgt, fun, tgtType = "glob", opts = {}) => {
    compileTarget(tgt, tgtType);
    return selectMine(view, tgt, fun, tgtType, opts, reader.context);
  };
  return {
    query,
    lookup: (tgt, fun, tgtType, opts) => query(tgt, fun, tgtType, opts).values,
    get: async (tgt, fun, tgtType, opts) => query(tgt, fun, tgtType, opts).values,
    stop() {
      minions.stop();
      mine.stop();
    },
  };
}

/** A view over the mirrors, with mine entries indexed by function and minions by id. */
function buildView(minions: KvMirror<MinionInfo>, mine: KvMirror<MineEntry>): MineView {
  const byId = new Map<string, MinionInfo>();
  const byKey = new Map<string, string>();
  const setMinion = (key: string, m: MinionInfo | undefined) => {
    const old = byKey.get(key);
    if (old !== undefined) byId.delete(old);
    if (m) {
      byId.set(m.id, m);
      byKey.set(key, m.id);
    } else byKey.delete(key);
  };
  for (const [k, m] of minions.entries()) setMinion(k, m);
  minions.onChange(setMinion);

  const byFun = new Map<string, Map<string, MineEntry>>();
  const setEntry = (key: string, e: MineEntry | undefined) => {
    const k = parseMineKey(key);
    if (!k) return;
    let m = byFun.get(k.fun);
    if (!m) byFun.set(k.fun, (m = new Map()));
    if (e) m.set(k.id, e);
    else m.delete(k.id);
  };
  for (const [k, e] of mine.entries()) setEntry(k, e);
  mine.onChange(setEntry);
  return { minions: byId, entries: (f) => byFun.get(f)?.values() ?? [] };
}

/** A mine lookup as templates call it. */
export type TemplateMine = (...args: unknown[]) => Record<string, unknown>;

/**
 * The `mine` helper of templates over a cache: `mine(tgt, fun)`, `mine(tgt, fun, 'grain')` or
 * `mine(tgt, fun, tgt_type='grain')` (keyword arguments arrive as a last plain object; Salt's old
 * `expr_form` is read as tgt_type).
 */
export function templateMine(cache: Pick<MineCache, "lookup">): TemplateMine {
  return (...args: unknown[]) => {
    const last = args.at(-1);
    const kw = args.length > 2 && last !== null && typeof last === "object" && !Array.isArray(last) ? (args.pop() as Record<string, unknown>) : {};
    const [tgt, fun, positional] = args;
    const tgtType = positional ?? kw["tgt_type"] ?? kw["expr_form"] ?? "glob";
    if (typeof tgtType !== "string") throw new Error(`tgt_type must be a string, got ${typeof tgtType}`);
    return cache.lookup(tgt as string | readonly string[], fun as string | readonly string[], tgtType as TargetType);
  };
}
