/**
 * Which tags an agent may send (DESIGN.md 2.4). An agent speaks only for itself:
 * - `salt/beacon/<own id>/...`, `salt/minion/<own id>/...`, `salt/mine/<own id>/...`, `salt/job/<jid>/ret/<own id>`;
 * - custom tags outside the reserved `salt/` and `reactor/` prefixes;
 * - never `salt/auth` (the key service emits it during the handshake) nor other `salt/`/`reactor/` tags.
 * When the data has an `id` field it must be the agent's own id, so no agent can speak for another in
 * the data either.
 */

import { agentIdViolation } from "../agent-id.js";

/** Tag prefixes only the service (or the handshake) may use, apart from the agent's own namespaces. */
export const RESERVED_PREFIXES = ["salt/", "reactor/"] as const;

const JOB_RET = /^salt\/job\/[^/]+\/ret\//;

/** Undefined when `agentId` may send `tag` with `data`; else the reason it may not. */
export function namespaceViolation(tag: string, agentId: string, data?: Readonly<Record<string, unknown>>): string | undefined {
  const badId = agentIdViolation(agentId);
  if (badId) return `sender: ${badId}`;
  const reason = tagViolation(tag, agentId);
  if (reason) return reason;
  if (data && "id" in data && data["id"] !== agentId) {
    return `data.id ${JSON.stringify(data["id"])} is not the sender ${JSON.stringify(agentId)}`;
  }
  return undefined;
}

function tagViolation(tag: string, id: string): string | undefined {
  if (tag === "salt/auth") return "salt/auth is sent only by the key service during the handshake";
  for (const ns of ["salt/beacon/", "salt/minion/", "salt/mine/"]) {
    if (!tag.startsWith(ns)) continue;
    return tag.startsWith(`${ns}${id}/`) ? undefined : `tag ${JSON.stringify(tag)} is outside ${ns}${id}/`;
  }
  const ret = JOB_RET.exec(tag);
  if (ret) return tag.slice(ret[0].length) === id ? undefined : `job return ${JSON.stringify(tag)} is not for ${JSON.stringify(id)}`;
  for (const p of RESERVED_PREFIXES) {
    if (tag.startsWith(p) || tag === p.slice(0, -1)) return `tag prefix ${p} is reserved to the service`;
  }
  return undefined;
}
