/**
 * Keeps the store in step with `file_roots`: uploads new and changed files (by sha256; an unchanged
 * file is never uploaded again), deletes removed ones, rewrites each environment's index, and polls
 * the roots for changes (a stat walk; files are read only when their size or mtime changed).
 *
 * Several service replicas may run it at once: the sync is idempotent (same content -> same digest
 * -> same objects and index), so replicas serving the same `file_roots` converge; order of writes
 * is object first, then index (so the index never names a missing object), and on delete index
 * first, then object.
 */
import { errorMessage, silentLogger, type Logger } from "../core/index.js";
import { DigestCache, scanEnv, type ScannedEnv } from "./scan.js";
import {
  ENVS_KEY,
  envIndexKey,
  type EnvIndex,
  type IndexRecord,
  type WritableObjectPort,
  type WritableRecordPort,
} from "./types.js";

/** Environment -> directories, first match wins. */
export type FileRoots = Readonly<Record<string, readonly string[]>>;

/** What one pass did. */
export interface SyncStats {
  uploaded: number;
  deleted: number;
  unchanged: number;
  /** Environments not synced because a root could not be read. */
  skipped: { env: string; unreadable: readonly string[] }[];
}

/** Options of the sync. */
export interface FileSyncOptions {
  readonly roots: FileRoots;
  readonly objects: WritableObjectPort;
  readonly index: WritableRecordPort<IndexRecord>;
  readonly log?: Logger;
  /** Milliseconds between two looks at the roots. Default 1000. */
  readonly pollMs?: number;
  /** Milliseconds between two full passes against the store even when nothing changed on disk. Default 60000. */
  readonly resyncMs?: number;
}

/** A running sync. */
export interface FileSync {
  /** Totals since start. */
  readonly stats: Readonly<SyncStats>;
  /** Runs a full pass now (after any pass in progress) and resolves with what it did. */
  syncNow(): Promise<SyncStats>;
  /** Stops polling; idempotent. */
  stop(): Promise<void>;
}

const objectName = (env: string, path: string) => `${env}/${path}`;

/** One pass over every environment (and removal of environments no longer in `roots`). */
export async function syncOnce(
  o: Pick<FileSyncOptions, "roots" | "objects" | "index">,
  digests = new DigestCache(),
  scanned?: ReadonlyMap<string, ScannedEnv>,
): Promise<SyncStats> {
  const stats: SyncStats = { uploaded: 0, deleted: 0, unchanged: 0, skipped: [] };
  const envs = Object.keys(o.roots).sort();
  const previous = await o.index.get(ENVS_KEY);
  for (const env of envs) {
    const scan = scanned?.get(env) ?? (await scanEnv(o.roots[env] ?? []));
    // A root that cannot be read (not mounted yet, removed by mistake) would look like every file
    // of it was deleted: the environment keeps its store copy until the root is back.
    if (scan.unreadable.length) {
      stats.skipped.push({ env, unreadable: scan.unreadable });
      continue;
    }
    await syncEnv(env, scan, o, digests, stats);
  }
  // No environment at all (a replica without file_roots, a default /srv/salt that is absent) never
  // empties a store that another replica fills: dropping environments takes a file_roots that has others.
  if (envs.length === 0) return stats;
  const gone = Array.isArray(previous?.value)
    ? (previous.value as string[]).filter((e) => !envs.includes(e))
    : [];
  if (JSON.stringify(previous?.value) !== JSON.stringify(envs)) await o.index.put(ENVS_KEY, envs);
  for (const env of gone)
    await syncEnv(env, { roots: [], files: new Map(), dirs: [], unreadable: [] }, o, digests, stats);
  for (const env of gone) await o.index.delete(envIndexKey(env));
  return stats;
}

async function syncEnv(
  env: string,
  scan: ScannedEnv,
  o: Pick<FileSyncOptions, "objects" | "index">,
  digests: DigestCache,
  stats: SyncStats,
): Promise<void> {
  const got = await o.index.get(envIndexKey(env));
  const old = got && !Array.isArray(got.value) ? (got.value as EnvIndex) : { roots: [], files: {}, dirs: [] };
  const files: Record<string, string> = {};
  for (const [path, f] of scan.files) {
    let d: { sha: string; data?: Uint8Array };
    try {
      d = await digests.digest(f);
    } catch {
      continue; // removed between the walk and the read: the next pass sees it gone
    }
    files[path] = d.sha;
    if (old.files[path] === d.sha) {
      stats.unchanged++;
      continue;
    }
    await o.objects.put(objectName(env, path), d.data ?? (await digests.read(f)));
    stats.uploaded++;
  }
  const removed = Object.keys(old.files).filter((p) => !(p in files));
  const next: EnvIndex = { roots: scan.roots, files, dirs: scan.dirs };
  if (JSON.stringify(next) !== JSON.stringify(old)) await o.index.put(envIndexKey(env), next);
  for (const path of removed) {
    await o.objects.delete(objectName(env, path));
    stats.deleted++;
  }
}

/** Syncs once, then follows the roots until stopped. */
export async function startFileSync(o: FileSyncOptions): Promise<FileSync> {
  const log = (o.log ?? silentLogger).child({ component: "fileserver" });
  const digests = new DigestCache();
  const totals: SyncStats = { uploaded: 0, deleted: 0, unchanged: 0, skipped: [] };
  let chain: Promise<unknown> = Promise.resolve();
  let lastSeen = "";
  let lastFull = 0;
  const pass = (scanned?: ReadonlyMap<string, ScannedEnv>) => {
    const run = chain.then(async () => {
      const t0 = Date.now();
      const s = await syncOnce(o, digests, scanned);
      lastFull = Date.now();
      totals.uploaded += s.uploaded;
      totals.deleted += s.deleted;
      totals.unchanged += s.unchanged;
      totals.skipped = s.skipped;
      for (const k of s.skipped)
        log.warn(k, "file_roots directory cannot be read: environment not synced, the store keeps its copy");
      if (s.uploaded || s.deleted)
        log.info(
          { uploaded: s.uploaded, deleted: s.deleted, ms: Date.now() - t0 },
          "file server store updated",
        );
      return s;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  // Debounce: a change is synced once the tree looked the same twice in a row (one quiet poll),
  // so a file being written is not uploaded half-way (and if it is, the next look uploads it again).
  let lastLook = "";
  const look = async (settled: boolean) => {
    const scanned = new Map<string, ScannedEnv>();
    for (const env of Object.keys(o.roots)) scanned.set(env, await scanEnv(o.roots[env] ?? []));
    const seen = JSON.stringify(
      [...scanned].map(([env, s]) => [
        env,
        s.dirs,
        s.unreadable,
        [...s.files].map(([p, f]) => [p, f.size, f.mtimeMs]),
      ]),
    );
    const quiet = settled || seen === lastLook;
    lastLook = seen;
    const due = Date.now() - lastFull >= (o.resyncMs ?? 60_000);
    if ((seen === lastSeen || !quiet) && !due) return;
    await pass(scanned);
    lastSeen = seen;
  };
  await look(true).catch((err: unknown) =>
    log.error({ err: errorMessage(err) }, "file server sync failed; retrying"),
  );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const tick = () => {
    timer = setTimeout(() => {
      ticking = look(false)
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, "file server sync failed; retrying"))
        .finally(() => {
          if (!stopped) tick();
        });
    }, o.pollMs ?? 1000);
    timer.unref();
  };
  tick();
  let stopping: Promise<void> | undefined;
  return {
    stats: totals,
    syncNow: () => pass(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await ticking;
        await chain;
      })();
      return stopping;
    },
  };
}
