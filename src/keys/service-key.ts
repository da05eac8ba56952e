/**
 * The service's own key pair. It signs jobs, handshake answers, the service's own events, and key
 * commands of the CLI run on the service host (which reads the same seed file). Stored as an nkey
 * seed with mode 0600.
 */
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { AuthError, errorMessage } from "../core/errors.js";
import { fingerprint, signerFromSeed, type Signer } from "../core/auth/index.js";

/** Default seed file of the service key (`REACTOR_KEY_FILE` overrides it for the CLI). */
export const DEFAULT_SERVICE_KEY_FILE = "/var/lib/nats-reactor/service/service.nk";

/** The service key. */
export interface ServiceKey extends Signer {
  readonly seedFile: string;
  /** Salt-style fingerprint of the public key (what agents print on first contact). */
  readonly fingerprint: string;
}

/** Reads the seed file; throws AuthError when it is missing or unreadable. */
export async function loadServiceKey(file: string): Promise<ServiceKey> {
  let seed: string;
  try {
    seed = (await readFile(file, "utf8")).trim();
  } catch (err) {
    throw new AuthError(`cannot read the service key ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const s = signerFromSeed(seed);
    return { ...s, seedFile: file, fingerprint: fingerprint(s.publicKey) };
  } catch (err) {
    throw new AuthError(`service key ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Loads the seed file, or creates it (mode 0600, folder 0700) when there is none. */
export async function loadOrCreateServiceKey(file: string): Promise<ServiceKey> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${new TextDecoder().decode(createUser().getSeed())}\n`, { mode: 0o600, flag: "wx", flush: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new AuthError(`cannot create the service key ${file}: ${errorMessage(err)}`, { cause: err });
  }
  if ((await stat(file)).mode & 0o077) await chmod(file, 0o600);
  return loadServiceKey(file);
}
