/**
 * Walks `file_roots` as Salt's roots backend does: per environment, the first root holding a path
 * wins; directories of every root are listed; symlinks to files are followed (symlinked
 * directories are not walked). Digests are cached by (size, mtime) so an unchanged
 * tree is not read again.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join, sep } from "node:path";

/** One file found under the roots. */
export interface ScannedFile {
  readonly full: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One environment as found on disk. */
export interface ScannedEnv {
  readonly roots: readonly string[];
  /** Path -> the file that wins for it. */
  readonly files: ReadonlyMap<string, ScannedFile>;
  readonly dirs: readonly string[];
  /** Roots that could not be read (missing, not a directory, no access). */
  readonly unreadable: readonly string[];
}

/** Walks the roots of one environment; roots that cannot be read are named in `unreadable`. */
export async function scanEnv(roots: readonly string[]): Promise<ScannedEnv> {
  const files = new Map<string, ScannedFile>();
  const dirs = new Set<string>();
  const unreadable: string[] = [];
  for (const root of roots) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => undefined);
    if (!entries) {
      unreadable.push(root);
      continue;
    }
    for (const e of entries) {
      const full = join(e.parentPath, e.name);
      const rel = full.slice(root.length).split(sep).filter(Boolean).join("/");
      if (rel === "") continue;
      if (e.isDirectory()) dirs.add(rel);
      else if ((e.isFile() || e.isSymbolicLink()) && !files.has(rel)) {
        // a symlink to a file is served as the file (Salt follows links); one to a directory is not walked
        const st = await stat(full).catch(() => undefined);
        if (st?.isFile()) files.set(rel, { full, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  }
  return {
    roots,
    files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))),
    dirs: [...dirs].sort(),
    unreadable,
  };
}

/** sha256 digests of files, cached by path, size and mtime. */
export class DigestCache {
  private readonly known = new Map<string, { size: number; mtimeMs: number; sha: string }>();

  /** The digest of `f` (read only when its size or mtime changed), and its bytes when they were read. */
  async digest(f: ScannedFile): Promise<{ sha: string; data?: Uint8Array }> {
    const k = this.known.get(f.full);
    if (k && k.size === f.size && k.mtimeMs === f.mtimeMs) return { sha: k.sha };
    const data = await readFile(f.full);
    const sha = createHash("sha256").update(data).digest("hex");
    this.known.set(f.full, { size: f.size, mtimeMs: f.mtimeMs, sha });
    return { sha, data };
  }

  /** The bytes of `f`. */
  read(f: ScannedFile): Promise<Uint8Array> {
    return readFile(f.full);
  }
}
