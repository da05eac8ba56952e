/**
 * Suspend and replay: the template engine is synchronous (it is the reactor's hot path), while
 * execution functions (`salt['cmd.run']`), file reads for includes, and the mine are async. A
 * context function answers from a per-render cache; on a miss it starts the call, caches its
 * promise and throws TemplateSuspend; the driver awaits it and renders again from the start.
 * Each distinct call (function and JSON of its arguments) runs once per render, in template order.
 */
import { TemplateSuspend } from "../core/template/index.js";
import { StateError } from "../core/errors.js";

interface Entry {
  done: boolean;
  value?: unknown;
  error?: unknown;
  readonly promise: Promise<unknown>;
}

/** Replays at most this many times (one per distinct async call). */
const MAX_REPLAYS = 2000;

/** The calls of one render. */
export class CallCache {
  private readonly entries = new Map<string, Entry>();
  /** Async calls made, in order (for tests and logs). */
  readonly started: string[] = [];

  /** The cached answer of `key`, or starts `run` and suspends the render. */
  get(key: string, run: () => Promise<unknown>): unknown {
    const hit = this.entries.get(key);
    if (hit?.done) {
      if ("error" in hit) throw hit.error;
      return hit.value;
    }
    if (hit) throw new TemplateSuspend(hit.promise);
    this.started.push(key);
    const entry: Entry = {
      done: false,
      promise: run().then(
        (v) => Object.assign(entry, { done: true, value: v }),
        (e: unknown) => Object.assign(entry, { done: true, error: e }),
      ),
    };
    this.entries.set(key, entry);
    throw new TemplateSuspend(entry.promise);
  }
}

/** Runs `render` until it completes without suspending. */
export async function renderReplaying<T>(render: () => T, what: string): Promise<T> {
  for (let i = 0; i <= MAX_REPLAYS; i++) {
    try {
      return render();
    } catch (err) {
      if (!(err instanceof TemplateSuspend)) throw err;
      await err.pending;
    }
  }
  throw new StateError(`${what}: more than ${MAX_REPLAYS} async calls in one render`);
}
