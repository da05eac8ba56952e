/**
 * The job ledger: a job id is run at most once per agent, across restarts. One small JSON file per
 * jid under `<state_dir>/jobs/`: written when the job starts, rewritten with the return when it ends.
 * A repeated jid gets the recorded return; a jid that started but never finished (the agent died
 * mid-job) gets a failed return instead of a second run.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { JobRequest, JobReturn } from "../core/job.js";
import { jobReturn } from "./executor.js";

/** The message of the return of a job that an agent restart interrupted. */
export const INTERRUPTED_MESSAGE = "job was interrupted by an agent restart; not re-run";

/** Options of a ledger. */
export interface JobLedgerOptions {
  /** The agent's state directory; records go to `<stateDir>/jobs/`. */
  readonly stateDir: string;
  /** Agent id, for returns the ledger makes itself. */
  readonly agentId: string;
  /** Records older than this are pruned. Default 7 days. */
  readonly maxAgeMs?: number;
  /** At most this many records are kept (oldest pruned first). Default 10000. */
  readonly maxEntries?: number;
  /** Prune after this many new records. Default 500. */
  readonly pruneEvery?: number;
}

/** One record on disk. */
export interface JobRecord {
  readonly jid: string;
  readonly fun: string;
  readonly started: string;
  readonly finished?: string;
  readonly ret?: JobReturn;
}

/** At-most-once execution of jobs by jid. */
export class JobLedger {
  private readonly inflight = new Map<string, Promise<JobReturn>>();
  private sincePrune = 0;
  private pruning: Promise<number> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly opts: JobLedgerOptions,
  ) {}

  /** Opens (creating) the ledger directory and prunes old records. */
  static async open(opts: JobLedgerOptions): Promise<JobLedger> {
    const dir = join(opts.stateDir, "jobs");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ledger = new JobLedger(dir, opts);
    await ledger.prune();
    return ledger;
  }

  /** Runs `exec(job)` unless the jid was seen: then the recorded (or an "interrupted") return. */
  runOnce(job: JobRequest, exec: (job: JobRequest) => Promise<JobReturn>): Promise<JobReturn> {
    const running = this.inflight.get(job.jid);
    if (running) return running;
    const p = this.claimAndRun(job, exec).finally(() => this.inflight.delete(job.jid));
    this.inflight.set(job.jid, p);
    return p;
  }

  /**
   * The record of a jid, if any. A record cut short (the agent died while creating it) reads as
   * started and not finished.
   */
  async lookup(jid: string): Promise<JobRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(jid), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as JobRecord;
    } catch {
      return { jid, fun: "", started: "" };
    }
  }

  /** Deletes records over the age limit, then the oldest over the count limit. Returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const maxAge = this.opts.maxAgeMs ?? 7 * 86_400_000;
    const maxEntries = this.opts.maxEntries ?? 10_000;
    // One stat each of records and of temp files a crash left behind (a temp file a minute old is
    // not being written any more).
    const entries = await Promise.all(
      (await readdir(this.dir))
        .filter((n) => n.endsWith(".json") || n.endsWith(".tmp"))
        .map(async (n) => ({ n, mtime: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs })),
    );
    const live = entries
      .filter((e): e is { n: string; mtime: number } => e.mtime !== undefined)
      .sort((a, b) => b.mtime - a.mtime);
    const stale = live.filter((e) => e.n.endsWith(".tmp") && now - e.mtime > 60_000);
    const doomed = live.filter((e) => e.n.endsWith(".json")).filter((e, i) => now - e.mtime > maxAge || i >= maxEntries);
    await Promise.all([...stale, ...doomed].map((e) => unlink(join(this.dir, e.n)).catch(() => undefined)));
    this.sincePrune = 0;
    return doomed.length;
  }

  private async claimAndRun(
    job: JobRequest,
    exec: (job: JobRequest) => Promise<JobReturn>,
  ): Promise<JobReturn> {
    const started: JobRecord = { jid: job.jid, fun: job.fun, started: new Date().toISOString() };
    if (!(await this.claim(job.jid, started))) {
      const rec = await this.lookup(job.jid);
      return rec?.ret ?? jobReturn(this.opts.agentId, job, INTERRUPTED_MESSAGE, 1);
    }
    const ret = await exec(job);
    await this.write(job.jid, { ...started, finished: new Date().toISOString(), ret });
    if (++this.sincePrune >= (this.opts.pruneEvery ?? 500)) {
      this.sincePrune = 0;
      // in the background: a prune stats every record and must not hold up this job's return
      this.pruning ??= this.prune()
        .catch(() => 0)
        .finally(() => (this.pruning = undefined));
    }
    return ret;
  }

  /**
   * Creates the record only if none exists: O_EXCL decides, so of two claims of a jid one wins. A
   * record cut short by a crash still exists, and reads as started (lookup), which is what it was.
   * No fsync, here or below: records must survive a crash of the agent process (the page cache
   * does), not a power loss of the host; an fsync per record cost more than the jobs themselves.
   */
  private async claim(jid: string, rec: JobRecord): Promise<boolean> {
    try {
      await writeFile(this.file(jid), JSON.stringify(rec), { mode: 0o600, flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    }
  }

  /** Replaces the record atomically (temp file, then rename): a crash leaves the old one whole. */
  private async write(jid: string, rec: JobRecord): Promise<void> {
    const file = this.file(jid);
    const tmp = `${file}.tmp`; // one job per jid at a time (inflight), so the name is free
    await writeFile(tmp, JSON.stringify(rec), { mode: 0o600 });
    await rename(tmp, file);
  }

  private file(jid: string): string {
    const name = /^[A-Za-z0-9_-]{1,128}$/.test(jid)
      ? jid
      : `h-${createHash("sha256").update(jid).digest("hex")}`;
    return join(this.dir, `${name}.json`);
  }
}
