/**
 * The one rule for agent ids (docs/security.md "Agent ids"), used by the handshake, agent.yaml, the
 * accepted-keys cache, the event namespace check and the key commands. Salt minion ids are host
 * names or FQDNs in practice: letters, digits, `.`, `-` and `_`, starting with a letter or a digit.
 * Nothing that means something to a target (`*?[]` globs, `,` lists, `@` and `:` of compound and
 * grain matchers, whitespace of `and`/`or`/`not`, regex syntax), to a subject or KV key (`/`, `>`,
 * `%`), or to a shell, so an id can be put into any target as the literal it is.
 */

/** Longest agent id: the longest DNS name. */
export const MAX_AGENT_ID_LENGTH = 253;

/** The rule in words, for error messages and docs. */
export const AGENT_ID_RULE = `letters, digits, '.', '-' and '_', starting with a letter or a digit, at most ${MAX_AGENT_ID_LENGTH} characters`;

const AGENT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `id` is not a usable agent id, or undefined when it is. */
export function agentIdViolation(id: unknown): string | undefined {
  if (typeof id !== "string" || id.length === 0) return "id must be a non-empty string";
  if (id.length > MAX_AGENT_ID_LENGTH) return `id is longer than ${MAX_AGENT_ID_LENGTH} characters`;
  if (!AGENT_ID_RE.test(id)) return `id ${JSON.stringify(id)} must be made of ${AGENT_ID_RULE}`;
  return undefined;
}

/** True when `id` follows the agent id rule. */
export function isAgentId(id: unknown): id is string {
  return agentIdViolation(id) === undefined;
}

const AGENT_GLOB_RE = /^[A-Za-z0-9._*?[\]!-]+$/;

/** Why `glob` cannot match agent ids (a key command's `match` item), or undefined: id characters and `*?[]!` only. */
export function agentGlobViolation(glob: string): string | undefined {
  if (glob.length === 0 || glob.length > 1024) return "an id glob must have 1 to 1024 characters";
  if (!AGENT_GLOB_RE.test(glob)) return `id glob ${JSON.stringify(glob)} may use only letters, digits, '.', '-', '_' and the glob characters *?[]!`;
  return undefined;
}
