/** The service's event verifier wired to the keys bucket (accepted keys watched live). */
import { createEventVerifier, type EventVerifier, type EventVerifierOptions } from "../core/auth/index.js";
import type { Logger } from "../core/index.js";
import { watchAcceptedKeys } from "./cache.js";
import type { KeyStore } from "./store.js";

/** A verifier with its cache. */
export interface ServiceVerifier extends EventVerifier {
  /** Stops the watch; idempotent. */
  stop(): Promise<void>;
}

/** Starts a verifier over the accepted keys of `store`; `trusted` is the service key and admin keys. */
export async function startEventVerifier(
  store: KeyStore,
  opts: Omit<EventVerifierOptions, "keys"> & { log?: Logger },
): Promise<ServiceVerifier> {
  const cache = await watchAcceptedKeys(store, opts.log);
  const v = createEventVerifier({ ...opts, keys: cache });
  return { verify: v.verify, setTrusted: v.setTrusted, stop: () => cache.stop() };
}
