/**
 * The key policy and the handshake's decision, exactly as Salt's master decides `_auth`: the four
 * key states mirror Salt's pki dirs (minions_pre, minions, minions_rejected, minions_denied); each
 * attempt yields an `act` (pend, accept, reject, denied) for the `salt/auth` event and the writes.
 */
import { compileTagGlob, type TagGlob } from "../glob/index.js";

/** Key states, as Salt's directories. */
export type KeyState = "pending" | "accepted" | "rejected" | "denied";
/** Every key state, in Salt's listing order. */
export const KEY_STATES: readonly KeyState[] = ["accepted", "pending", "rejected", "denied"];
/** The `act` of a `salt/auth` event. */
export type AuthAct = "pend" | "accept" | "reject" | "denied";

/** The `keys:` section of reactor.yaml (ServiceConfig["keys"]). */
export interface KeyPolicyConfig {
  readonly auto_accept: boolean;
  readonly autosign: readonly string[];
  readonly autoreject: readonly string[];
  readonly autosign_grains: Readonly<Record<string, readonly string[]>>;
}

/** The compiled policy. */
export interface KeyPolicy {
  /** Salt's check_autoreject: the id matches an autoreject entry. */
  autoRejects(id: string): boolean;
  /** Salt's check_autosign: auto_accept, an autosign entry, or a presented grain value listed in autosign_grains. */
  autoSigns(id: string, grains?: Readonly<Record<string, unknown>>): boolean;
}

/** One entry of an autosign/autoreject list: Salt's expr_match (exact, fnmatch glob, or anchored regex). */
export function compileIdMatcher(expr: string): (id: string) => boolean {
  let glob: TagGlob | undefined;
  let re: RegExp | undefined;
  try {
    glob = compileTagGlob(expr, "fnmatch");
  } catch {
    glob = undefined; // as Python's fnmatch never fails, an unusable glob just does not match
  }
  try {
    re = new RegExp(`^(?:${expr})$`, "s");
  } catch {
    re = undefined; // Salt ignores re.error
  }
  return (id) => id === expr || (glob?.test(id) ?? false) || (re?.test(id) ?? false);
}

/** Compiles the `keys:` policy once. */
export function compileKeyPolicy(cfg: KeyPolicyConfig): KeyPolicy {
  const sign = cfg.autosign.filter((l) => !l.trim().startsWith("#")).map((l) => compileIdMatcher(l.trim()));
  const reject = cfg.autoreject.filter((l) => !l.trim().startsWith("#")).map((l) => compileIdMatcher(l.trim()));
  const grains = Object.entries(cfg.autosign_grains).map(([name, values]) => [name, new Set(values)] as const);
  return {
    autoRejects: (id) => reject.some((m) => m(id)),
    autoSigns(id, presented) {
      if (cfg.auto_accept || sign.some((m) => m(id))) return true;
      if (!presented) return false;
      return grains.some(([name, values]) => {
        const v = presented[name];
        return (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && values.has(String(v));
      });
    },
  };
}

/** The public keys stored for one id, one per state (Salt keeps one file per dir). */
export type KeySlots = Partial<Record<KeyState, string>>;

/** A write the key service does after a decision. */
export type KeyWrite = { readonly op: "put"; readonly state: KeyState; readonly pub: string } | { readonly op: "delete"; readonly state: KeyState };

/** The outcome of one auth attempt. */
export interface AuthDecision {
  readonly act: AuthAct;
  /** `result` of the `salt/auth` event (Salt: true for pend and accept). */
  readonly result: boolean;
  readonly writes: readonly KeyWrite[];
}

const decision = (act: AuthAct, writes: KeyWrite[] = []): AuthDecision => ({ act, result: act === "pend" || act === "accept", writes });

/** Salt's `_auth` decision for `pub` presented by an id whose keys are `slots`. */
export function decideAuth(slots: KeySlots, pub: string, auto: { reject: boolean; sign: boolean }): AuthDecision {
  if (slots.rejected !== undefined) return decision("reject");
  if (slots.accepted !== undefined) {
    return slots.accepted === pub ? decision("accept") : decision("denied", [{ op: "put", state: "denied", pub }]);
  }
  if (slots.pending === undefined) {
    if (auto.reject) return decision("reject", [{ op: "put", state: "rejected", pub }]);
    if (!auto.sign) return decision("pend", [{ op: "put", state: "pending", pub }]);
    return decision("accept", [{ op: "put", state: "accepted", pub }]);
  }
  if (auto.reject) {
    return decision("reject", [
      { op: "put", state: "rejected", pub: slots.pending },
      { op: "delete", state: "pending" },
    ]);
  }
  if (slots.pending !== pub) return decision("denied", [{ op: "put", state: "denied", pub }]);
  if (!auto.sign) return decision("pend");
  return decision("accept", [
    { op: "put", state: "accepted", pub },
    { op: "delete", state: "pending" },
  ]);
}

/** What the agent is told: its key's state after the attempt. */
export function stateOfAct(act: AuthAct): KeyState {
  return act === "pend" ? "pending" : act === "accept" ? "accepted" : act === "reject" ? "rejected" : "denied";
}
