/**
 * The NATS subject filter that pre-selects events for a tag glob: the glob's complete literal
 * segments, then `>`. A literal glob maps to its exact subject. The filter is coarse; the glob
 * itself is always matched against the raw tag afterwards.
 */
import type { TagGlob } from "./glob/index.js";
import { EVENT_SUBJECT_PREFIX, subjectFilterForPrefix, tagToSubject } from "./tag.js";

/** `salt/beacon/*` -> `evt.salt.beacon.>`; `salt/auth` -> `evt.salt.auth`; `*` -> `evt.>`. */
export function subjectFilterForGlob(glob: TagGlob): string {
  if (glob.literal) return tagToSubject(glob.pattern);
  const segments = glob.literalPrefix.split("/");
  segments.pop(); // the last one continues into a wildcard
  return segments.length === 0 ? `${EVENT_SUBJECT_PREFIX}.>` : subjectFilterForPrefix(segments);
}
