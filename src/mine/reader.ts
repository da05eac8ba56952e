/**
 * The reading side of the mine: `mine.get` over the stores (for the CLI, the reactor service and
 * agents), change watches, and purging an agent's data when its key is deleted.
 */
import { compileTarget } from "../core/targeting/index.js";
import { silentLogger, type Logger, type TargetType } from "../core/index.js";
import type { MineGetAcl } from "./acl.js";
import { readAll } from "./mirror.js";
import { selectMine, type MineGetOptions, type MineResult, type MineView, type SelectContext } from "./select.js";
import { isAccepted, mineFilter, minionKey, parseMineKey, type MineEntry, type MineStore, type MinionsStore } from "./store.js";

/** Options of createMineReader. */
export interface MineReaderOptions {
  readonly mine: MineStore;
  readonly minions: MinionsStore;
  /** Salt's `mine_get` ACL (reactor.yaml). Default: none (every requester may read every function). */
  readonly acl?: MineGetAcl;
  /** `mine_max_age` in ms. Default: 3 x each entry's `interval_s`. */
  readonly maxAgeMs?: number;
  /** Injectable clock (ms since the epoch). Default Date.now. */
  readonly now?: () => number;
  /** Default silent. */
  readonly log?: Logger;
}

/** A change of a watched mine value. */
export interface MineChange {
  readonly id: string;
  readonly fun: string;
  readonly op: "put" | "delete";
  /** The new entry (put only). */
  readonly entry?: MineEntry;
}

/** mine.get and friends. */
export interface MineReader {
  readonly mine: MineStore;
  readonly minions: MinionsStore;
  readonly context: SelectContext;
  /** `{minion: value}` for one function, `{fun: {minion: value}}` for a list. Throws TargetSyntaxError. */
  get(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): Promise<Record<string, unknown>>;
  /** As get, and says which values were left out (stale, ACL) and why. */
  query(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): Promise<MineResult>;
  /** Changes of `fun` on targeted accepted agents, as they happen. `stop()` ends the iteration. */
  watch(tgt: string | readonly string[], fun: string, tgtType?: TargetType): Promise<AsyncIterable<MineChange> & { stop(): void }>;
  /** Deletes every mine entry of an agent (its key was deleted); returns how many. */
  purgeAgent(agentId: string): Promise<number>;
}

/** Creates a reader over the two buckets. */
export function createMineReader(opts: MineReaderOptions): MineReader {
  const context: SelectContext = {
    ...(opts.acl ? { acl: opts.acl } : {}),
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    now: opts.now ?? Date.now,
    log: (opts.log ?? silentLogger).child({ component: "mine-reader" }),
  };
  const query: MineReader["query"] = async (tgt, fun, tgtType = "glob", o = {}) => {
    compileTarget(tgt, tgtType); // a bad target fails before any I/O
    const view = await fetchView(opts.mine, opts.minions, typeof fun === "string" ? [fun] : fun, context.log);
    return selectMine(view, tgt, fun, tgtType, o, context);
  };
  return {
    mine: opts.mine,
    minions: opts.minions,
    context,
    query,
    get: async (tgt, fun, tgtType, o) => (await query(tgt, fun, tgtType, o)).values,
    watch: (tgt, fun, tgtType = "glob") => watchMine(opts.mine, opts.minions, tgt, fun, tgtType),
    purgeAgent: (agentId) => purgeAgent(opts.mine, agentId),
  };
}

/** Fetches the minions and the entries of the given functions, concurrently. */
async function fetchView(mine: MineStore, minions: MinionsStore, funs: readonly string[], log: Logger): Promise<MineView> {
  const [ms, ...perFun] = await Promise.all([readAll(minions, ">", log), ...funs.map((f) => readAll(mine, mineFilter({ fun: f }), log))]);
  const byFun = new Map<string, MineEntry[]>();
  funs.forEach((f, i) => byFun.set(f, (perFun[i] ?? []).map(([, e]) => e)));
  return { minions: new Map(ms.map(([, m]) => [m.id, m])), entries: (f) => byFun.get(f) ?? [] };
}

/** Deletes every mine entry of an agent; returns how many. */
export async function purgeAgent(mine: MineStore, agentId: string): Promise<number> {
  const keys = await mine.keys(mineFilter({ agentId }));
  await Promise.all(keys.map((k) => mine.purge(k)));
  return keys.length;
}

/** Watches one function's values on the targeted accepted agents. */
async function watchMine(
  mine: MineStore,
  minions: MinionsStore,
  tgt: string | readonly string[],
  fun: string,
  tgtType: TargetType,
): Promise<AsyncIterable<MineChange> & { stop(): void }> {
  const target = compileTarget(tgt, tgtType);
  const w = await mine.watch({ filter: mineFilter({ fun }), initial: false });
  const targeted = async (id: string) => {
    const m = (await minions.get(minionKey(id)))?.value;
    return m !== undefined && isAccepted(m) && target.test(m);
  };
  return {
    async *[Symbol.asyncIterator]() {
      for await (const c of w) {
        const k = parseMineKey(c.key);
        if (!k || !(await targeted(k.id))) continue;
        yield c.op === "put" && c.value ? { id: k.id, fun: k.fun, op: "put", entry: c.value } : { id: k.id, fun: k.fun, op: "delete" };
      }
    },
    stop: () => w.stop(),
  };
}
