/** Signing and checking jobs: the service signs each job; agents run only jobs signed by their service key. */
import { jobSigningBytes } from "./canonical.js";
import { fromBase64Url, toBase64Url, verifySignature, type Signer } from "./nkey.js";

/** The base64url signature of a job payload for `subject` (sent in the `Reactor-Sig` header). */
export function signJob(subject: string, payload: Uint8Array, signer: Pick<Signer, "sign">): string {
  return toBase64Url(signer.sign(jobSigningBytes(subject, payload)));
}

/** Whether `signature` is the service key's signature of the job payload for `subject`. */
export function verifyJob(subject: string, payload: Uint8Array, signature: string | undefined, servicePub: string): boolean {
  if (!signature) return false;
  const sig = fromBase64Url(signature);
  return sig !== undefined && verifySignature(servicePub, jobSigningBytes(subject, payload), sig);
}
