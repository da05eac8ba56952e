/**
 * `inotify`: file changes, pushed as they happen (fs.watch on each watched directory).
 * Tag `salt/beacon/<id>/inotify/<dir>` as Salt (the watched file, or the directory holding the
 * changed entry, so `/etc/x` gives `inotify//etc`), data `{path, change}` with Salt's change names
 * (`IN_CREATE`, `IN_DELETE`, `IN_MODIFY`, `IN_ATTRIB`, `IN_MOVED_TO`...; `|IN_ISDIR` for directories).
 * fs.watch cannot tell a move from a create or delete: a moved entry reports `IN_CREATE`/`IN_DELETE`
 * when the mask has those, else `IN_MOVED_TO`/`IN_MOVED_FROM`.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { definePlugin, type BeaconDeps, type BeaconEvent, type BeaconInstance } from "../../plugin.js";
import { MASKS, parseInotify, type InotifyConfig, type MaskName, type WatchedPath } from "./config.js";

interface Known {
  mtimeMs: number;
  ctimeMs: number;
  dir: boolean;
}

class InotifyWatcher implements BeaconInstance {
  /** Watchers by `<watched path>\0<directory>` (two watched files may share a directory). */
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly known = new Map<string, Known>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly config: InotifyConfig,
    private readonly deps: BeaconDeps,
  ) {}

  async poll(): Promise<BeaconEvent[]> {
    return [];
  }

  async start(): Promise<void> {
    this.stopped = false;
    for (const w of this.config.files) {
      const s = await stat(w.path); // a missing path fails the start; the scheduler retries it
      if (s.isDirectory()) await this.watchDir(w, w.path);
      else {
        this.known.set(w.path, info(s));
        this.watchOne(w, dirname(w.path));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const fw of this.watchers.values()) fw.close();
    this.watchers.clear();
    this.known.clear();
  }

  private async watchDir(w: WatchedPath, dir: string): Promise<void> {
    if (this.watchers.has(key(w, dir)) || this.excluded(w, dir)) return;
    this.watchOne(w, dir);
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      const s = await stat(p).catch(() => undefined);
      if (!s || this.excluded(w, p)) continue;
      this.known.set(p, info(s));
      if (s.isDirectory() && w.recurse) await this.watchDir(w, p);
    }
  }

  private watchOne(w: WatchedPath, dir: string): void {
    if (this.watchers.has(key(w, dir))) return;
    const fw = watch(dir, { persistent: false }, (_type, name) => {
      if (name === null) return;
      const p = join(dir, name.toString());
      if (dir !== w.path && !w.recurse && w.path !== p) return;
      this.queue = this.queue.then(() => this.examine(w, p, dir)).catch((err: unknown) => this.deps.fail(err));
    });
    fw.on("error", (err) => this.deps.fail(err));
    this.watchers.set(key(w, dir), fw);
  }

  /** Compares the entry with what we knew of it and emits the change. */
  private async examine(w: WatchedPath, p: string, dir: string): Promise<void> {
    if (this.stopped || this.excluded(w, p)) return;
    const before = this.known.get(p);
    const s = await stat(p).catch(() => undefined);
    const now = s ? info(s) : undefined;
    if (now) this.known.set(p, now);
    else this.known.delete(p);
    const change = classify(w.mask, before, now);
    if (now?.dir && !before && w.recurse && w.autoAdd) await this.watchDir(w, p);
    if (!now && before?.dir) this.unwatch(p);
    if (!change) return;
    const isDir = (now ?? before)?.dir === true;
    const selfDeleted = p === w.path && !now;
    const name = selfDeleted && w.mask.has("delete_self") ? MASKS.delete_self : change;
    const tag = p === w.path ? w.path : dir;
    this.deps.emit([{ suffix: tag, data: { path: p, change: isDir ? `${name}|IN_ISDIR` : name } }]);
  }

  private unwatch(dir: string): void {
    for (const [k, fw] of this.watchers) {
      const d = k.slice(k.indexOf("\0") + 1);
      if (d === dir || d.startsWith(dir + "/")) {
        fw.close();
        this.watchers.delete(k);
      }
    }
  }

  private excluded(w: WatchedPath, p: string): boolean {
    return w.exclude.some((e) => ("prefix" in e ? p === e.prefix || p.startsWith(e.prefix.replace(/\/?$/, "/")) : e.regex.test(p)));
  }
}

function key(w: WatchedPath, dir: string): string {
  return `${w.path}\0${dir}`;
}

function info(s: { mtimeMs: number; ctimeMs: number; isDirectory(): boolean }): Known {
  return { mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, dir: s.isDirectory() };
}

/** The Salt change name of a transition, if the mask asks for it. */
export function classify(mask: ReadonlySet<MaskName>, before: Known | undefined, now: Known | undefined): string | undefined {
  const pick = (...names: MaskName[]) => names.filter((n) => mask.has(n)).map((n) => MASKS[n])[0];
  if (!before && now) return pick("create", "moved_to");
  if (before && !now) return pick("delete", "moved_from", "delete_self");
  if (!before || !now) return undefined;
  if (now.mtimeMs !== before.mtimeMs) return pick("modify", "close_write");
  if (now.ctimeMs !== before.ctimeMs) return pick("attrib");
  return undefined;
}

export const inotifyPlugin = definePlugin({
  type: "inotify",
  options: ["files", "coalesce"],
  parse: parseInotify,
  create: (config: InotifyConfig, deps: BeaconDeps) => new InotifyWatcher(config, deps),
});
