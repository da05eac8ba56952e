/**
 * Runs one lowstate chunk as salt-api's NetapiClient does: the client must be in
 * `netapi_enable_clients`, the user's ACL must allow the call (checked before anything is
 * published), and the answer has Salt's shape for that client.
 */
import type { AclEntry, ApiConfig } from "../config/index.js";
import { ApiError, TARGET_TYPES } from "../core/index.js";
import { authCheck, specCheck } from "./acl.js";
import type { JobCache } from "./events.js";
import type { ApiPorts } from "./ports.js";

/** Who runs the chunk. */
export interface Caller {
  readonly name: string;
  readonly authList: readonly AclEntry[];
}

const CHUNK_META = new Set([
  "client",
  "fun",
  "tgt",
  "tgt_type",
  "expr_form",
  "arg",
  "args",
  "kwarg",
  "timeout",
  "full_return",
  "token",
  "username",
  "password",
  "eauth",
  "batch",
  "ret",
  "match",
  "jid",
]);

/** Executes `chunk` for `caller`; throws ApiError (400, 403) on refusal. */
export async function runChunk(
  chunk: Record<string, unknown>,
  caller: Caller,
  config: ApiConfig,
  ports: ApiPorts,
  jobs: JobCache,
): Promise<unknown> {
  const client = chunk["client"];
  if (
    typeof client !== "string" ||
    !["local", "local_async", "local_batch", "runner", "runner_async", "wheel", "wheel_async"].includes(
      client,
    )
  )
    throw new ApiError(400, `Invalid client specified: '${String(client)}'`);
  if (!(config.netapi_enable_clients as readonly string[]).includes(client))
    throw new ApiError(
      400,
      `Client disabled: '${client}'. Add to 'netapi_enable_clients' master config option to enable.`,
    );
  const fun = chunk["fun"];
  if (typeof fun !== "string" || fun === "")
    throw new ApiError(400, "'fun' is required (the function to run)");
  const arg = toList(chunk["arg"] ?? chunk["args"]);
  const kwarg = { ...toMap(chunk["kwarg"]) };
  if (client.startsWith("local")) {
    const tgt = chunk["tgt"];
    if (typeof tgt !== "string" && !(Array.isArray(tgt) && tgt.every((t) => typeof t === "string")))
      throw new ApiError(400, "'tgt' is required for the local clients");
    const tgtType = String(chunk["tgt_type"] ?? chunk["expr_form"] ?? "glob");
    if (!(TARGET_TYPES as readonly string[]).includes(tgtType))
      throw new ApiError(400, `tgt_type must be one of ${TARGET_TYPES.join(", ")}`);
    const timeout =
      chunk["timeout"] === undefined || chunk["timeout"] === null ? 30 : Number(chunk["timeout"]);
    if (!(timeout > 0)) throw new ApiError(400, "'timeout' must be a positive number of seconds");
    const call = { tgt: tgt as string | string[], tgtType, fun, arg, kwarg, timeout, user: caller.name };
    if (!authCheck(caller.authList, call, ports.resolve))
      throw new ApiError(403, `${caller.name} may not run ${fun} on ${JSON.stringify(tgt)} (${tgtType})`);
    if (client === "local_async") {
      const r = await ports.startLocal(call);
      return { jid: r.jid, minions: r.targets };
    }
    const r = await ports.runLocal(call);
    const out: Record<string, unknown> = {};
    for (const [id, ret] of Object.entries(r.returns))
      out[id] =
        chunk["full_return"] === true ? { ret: ret.return, retcode: ret.retcode, jid: r.jid } : ret.return;
    return out;
  }
  // runner and wheel take keyword arguments; pepper sends them as top-level keys of the chunk
  for (const [k, v] of Object.entries(chunk)) if (!CHUNK_META.has(k)) kwarg[k] = v;
  if (chunk["match"] !== undefined) kwarg["match"] = chunk["match"];
  if (chunk["jid"] !== undefined) kwarg["jid"] = chunk["jid"];
  const kind = client.startsWith("runner") ? "runner" : "wheel";
  if (!specCheck(caller.authList, fun, kwarg, kind))
    throw new ApiError(403, `${caller.name} may not call the ${kind} function ${fun}`);
  const wait = !client.endsWith("_async");
  const local = kind === "runner" ? jobsRunner(fun, kwarg, jobs) : undefined;
  const r = local ? { jid: "", ...local } : await ports.callService(kind, fun, kwarg, caller.name, wait);
  const tag = kind === "runner" ? `salt/run/${r.jid}` : `salt/wheel/${r.jid}`;
  if (!wait) return { tag, jid: r.jid };
  if (kind === "runner" && chunk["full_return"] !== true) return r.return;
  return {
    tag: `${tag}/ret`,
    data: {
      fun: `${kind}.${fun}`,
      jid: r.jid,
      user: caller.name,
      return: r.return,
      success: r.success,
      _stamp: new Date().toISOString(),
    },
  };
}

/** `jobs.lookup_jid`, `jobs.list_job`, `jobs.list_jobs` from the API's job cache. */
function jobsRunner(
  fun: string,
  kwarg: Readonly<Record<string, unknown>>,
  jobs: JobCache,
): { return: unknown; success: boolean } | undefined {
  if (fun === "jobs.list_jobs") {
    const out: Record<string, unknown> = {};
    for (const j of jobs.list()) out[j.jid] = jobInfo(j);
    return { return: out, success: true };
  }
  if (fun === "jobs.lookup_jid" || fun === "jobs.list_job") {
    const jid = String(kwarg["jid"] ?? "");
    const j = jobs.get(jid);
    if (!j) return { return: {}, success: true };
    const result = Object.fromEntries(Object.entries(j.returns).map(([id, r]) => [id, r.return]));
    return {
      return:
        fun === "jobs.lookup_jid"
          ? result
          : {
              ...jobInfo(j),
              Minions: j.minions,
              Result: Object.fromEntries(
                Object.entries(j.returns).map(([id, r]) => [id, { return: r.return }]),
              ),
            },
      success: true,
    };
  }
  return undefined;
}

/** Salt's `jobs.list_jobs` entry. */
export function jobInfo(j: {
  fun: string;
  arg: readonly unknown[];
  tgt: unknown;
  tgt_type: string;
  user: string;
  start: string;
}): Record<string, unknown> {
  return {
    Function: j.fun,
    Arguments: j.arg,
    Target: j.tgt,
    "Target-type": j.tgt_type,
    User: j.user,
    StartTime: j.start,
  };
}

function toList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function toMap(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
