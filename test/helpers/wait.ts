/** Waiting without fixed sleeps: poll with a deadline, or wait on a latch. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  /** `what` names the condition in the timeout error; a function is called only then (e.g. to add a log tail). */
  opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const what = typeof opts.what === "function" ? opts.what() : opts.what;
      throw new Error(`timed out waiting for ${what ?? "condition"}${lastErr ? `: ${String(lastErr)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

/** A one-shot latch: `open(value)` resolves every `wait()`. */
export class Latch<T = void> {
  private resolveFn!: (v: T) => void;
  readonly promise: Promise<T>;
  constructor() {
    this.promise = new Promise<T>((r) => (this.resolveFn = r));
  }
  open(v: T): void {
    this.resolveFn(v);
  }
  async wait(timeoutMs = 10_000, what = "latch"): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
