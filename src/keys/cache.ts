/**
 * The accepted keys, kept in memory and fresh by watching the keys bucket (`accepted.>`), for the
 * event verifier. Each id keeps the revision it was last changed at, so a snapshot read racing a
 * watch update never resurrects a deleted key.
 */
import { silentLogger, errorMessage, isAgentId, type Logger } from "../core/index.js";
import type { AcceptedKeys } from "../core/auth/index.js";
import { parseKeyKey, type KeyStore } from "./store.js";

/** A live cache of accepted keys. */
export interface AcceptedKeyCache extends AcceptedKeys {
  readonly size: number;
  /** Stops watching; idempotent. */
  stop(): Promise<void>;
}

/** Loads the accepted keys and follows changes. Resolves once the current keys are loaded. */
export async function watchAcceptedKeys(store: KeyStore, log: Logger = silentLogger): Promise<AcceptedKeyCache> {
  const keys = new Map<string, { pub: string | undefined; rev: number }>();
  const apply = (kvKey: string, pub: string | undefined, rev: number) => {
    const k = parseKeyKey(kvKey);
    if (!k || k.state !== "accepted") return;
    if (!isAgentId(k.id)) {
      // Accepted before the id rule existed (or written past the service): never trusted.
      log.warn({ id: k.id }, "accepted key ignored: the id breaks the agent id rule (delete it with reactor key delete)");
      return;
    }
    const cur = keys.get(k.id);
    if (!cur || cur.rev < rev) keys.set(k.id, { pub, rev });
  };
  const watch = await store.watch({ filter: "accepted.>" });
  const loop = (async () => {
    try {
      for await (const c of watch) apply(c.key, c.op === "put" ? c.value?.pub : undefined, c.revision);
    } catch (err) {
      log.error({ err: errorMessage(err) }, "accepted-keys watch ended");
    }
  })();
  for (const e of await store.entries("accepted.>")) apply(e.key, e.value.pub, e.revision);
  let stopping: Promise<void> | undefined;
  return {
    get(id) {
      return keys.get(id)?.pub;
    },
    get size() {
      let n = 0;
      for (const v of keys.values()) if (v.pub) n++;
      return n;
    },
    stop() {
      stopping ??= (async () => {
        watch.stop();
        await loop;
      })();
      return stopping;
    },
  };
}
