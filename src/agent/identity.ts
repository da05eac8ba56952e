/**
 * The agent's identity: an ed25519 key pair as a NATS nkey (user), its seed stored in
 * `<state_dir>/agent.nk` with mode 0600 and reused on every start.
 */
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { ExecutionError, errorMessage } from "../core/errors.js";
import { signerFromSeed } from "../core/auth/index.js";

/** File name of the seed in the state directory. */
export const IDENTITY_FILE = "agent.nk";

/** The agent's key pair. */
export interface AgentIdentity {
  /** Public nkey (`U...`), what the key service accepts. */
  readonly publicKey: string;
  /** Where the seed is stored. */
  readonly seedFile: string;
  /** ed25519 signature of `data`. */
  sign(data: Uint8Array): Uint8Array;
  /** Checks a signature of this key. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

/** Loads the seed from `<stateDir>/agent.nk`, or creates one (mode 0600) if there is none. */
export async function loadOrCreateIdentity(stateDir: string): Promise<AgentIdentity> {
  const seedFile = join(stateDir, IDENTITY_FILE);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  let seed = await readSeed(seedFile);
  if (seed === undefined) {
    const kp = createUser();
    try {
      await writeFile(seedFile, `${new TextDecoder().decode(kp.getSeed())}\n`, {
        mode: 0o600,
        flag: "wx",
        flush: true,
      });
      seed = kp.getSeed();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw identityError(seedFile, err);
      seed = await readSeed(seedFile); // another process created it first: use theirs
    }
  }
  if ((await stat(seedFile)).mode & 0o077) await chmod(seedFile, 0o600);
  let kp;
  try {
    kp = fromSeed(seed!);
  } catch (err) {
    throw identityError(seedFile, err);
  }
  // node:crypto signs in ~55 us; the pure-JS ed25519 of @nats-io/nkeys took ~16 ms per event.
  const signer = signerFromSeed(new TextDecoder().decode(seed!));
  return {
    publicKey: kp.getPublicKey(),
    seedFile,
    sign: (data) => signer.sign(data),
    verify: (data, sig) => kp.verify(data, sig),
  };
}

async function readSeed(file: string): Promise<Uint8Array | undefined> {
  try {
    return new TextEncoder().encode((await readFile(file, "utf8")).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw identityError(file, err);
  }
}

function identityError(file: string, err: unknown): ExecutionError {
  return new ExecutionError(`agent identity ${file}: ${errorMessage(err)}`, { cause: err });
}
