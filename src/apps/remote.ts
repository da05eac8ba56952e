/**
 * Remote execution from the CLI (`reactor run`, like `salt TGT FUN ARGS`): resolve the target over
 * known agents, publish one job per agent, and collect the `salt/job/<jid>/ret/<id>` returns.
 */
import { publishJob, watchEvents } from "../bus/index.js";
import { compileTagGlob } from "../core/glob/index.js";
import { createEvent, newJid, subjectFilterForGlob, type JobRequest, type JobReturn } from "../core/index.js";
import type { Client } from "./client.js";
import { openMinionDirectory, type MinionDirectory } from "./minion-directory.js";
import { silentLogger } from "../core/index.js";

/** A remote call. */
export interface RemoteCall {
  readonly tgt: string;
  readonly tgtType: string;
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** Seconds the agents may take. */
  readonly timeout: number;
  /** Who asks: `user` of the job and of `salt/job/<jid>/new` (Salt's). Default `cli`. */
  readonly user?: string;
}

/** Where targets are resolved: the caller's directory of accepted agents, else one opened for the call. */
export interface RemoteOptions {
  readonly directory?: Pick<MinionDirectory, "resolve">;
}

/** Returns by agent; agents that did not answer in time are in `missing`. */
export interface RemoteResult {
  readonly jid: string;
  readonly targets: readonly string[];
  readonly returns: Readonly<Record<string, JobReturn>>;
  readonly missing: readonly string[];
}

/** Runs a function on the targeted agents and waits for their returns (or the timeout). */
export async function runRemote(client: Client, call: RemoteCall, opts: RemoteOptions = {}): Promise<RemoteResult> {
  const targets = await resolveTargets(client, call, opts);
  const jid = newJid();
  if (targets.length === 0) return { jid, targets, returns: {}, missing: [] };
  const glob = compileTagGlob(`salt/job/${jid}/ret/*`);
  const stream = await watchEvents(client.conn, client.streamName, {
    filter: subjectFilterForGlob(glob),
    start: { kind: "new" },
    maxEventBytes: client.maxEventBytes,
    onInvalid: () => undefined,
  });
  const returns: Record<string, JobReturn> = {};
  try {
    await publishRemote(client, call, jid, targets);
  } catch (err) {
    await stream.stop();
    throw err;
  }
  const timer = setTimeout(() => void stream.stop(), (call.timeout + 5) * 1000);
  for await (const d of stream) {
    const r = d.event.data as unknown as JobReturn;
    if (typeof r.id === "string" && targets.includes(r.id)) returns[r.id] = r;
    if (Object.keys(returns).length === targets.length) break;
  }
  clearTimeout(timer);
  await stream.stop();
  return { jid, targets, returns, missing: targets.filter((t) => !(t in returns)) };
}

/** Publishes the job and returns at once (Salt's `run_job`, the API's `local_async`); no targets: nothing is sent. */
export async function startRemote(client: Client, call: RemoteCall, opts: RemoteOptions = {}): Promise<{ jid: string; targets: string[] }> {
  const targets = await resolveTargets(client, call, opts);
  const jid = newJid();
  if (targets.length > 0) await publishRemote(client, call, jid, targets);
  return { jid, targets };
}

async function resolveTargets(client: Client, call: RemoteCall, opts: RemoteOptions): Promise<string[]> {
  if (opts.directory) return opts.directory.resolve(call.tgt, call.tgtType);
  const directory = await openMinionDirectory(client.conn, { replicas: 1, log: silentLogger, onlyAccepted: true });
  try {
    return directory.resolve(call.tgt, call.tgtType);
  } finally {
    directory.stop();
  }
}

/** `salt/job/<jid>/new` (with `user`), then one signed job per agent. */
async function publishRemote(client: Client, call: RemoteCall, jid: string, targets: readonly string[]): Promise<void> {
  const user = call.user ?? "cli";
  const job: JobRequest = {
    jid,
    fun: call.fun,
    arg: call.arg,
    kwarg: call.kwarg,
    tgt: call.tgt,
    tgt_type: call.tgtType,
    timeout: call.timeout,
    expires: new Date(Date.now() + call.timeout * 1000).toISOString(),
    user,
  };
  if (!client.signJob) throw new Error("jobs must be signed with the service key: give --key FILE or set REACTOR_KEY_FILE");
  await client.publisher.publish(
    createEvent({ tag: `salt/job/${jid}/new`, data: { jid, tgt: call.tgt, tgt_type: call.tgtType, fun: call.fun, arg: call.arg, minions: [...targets], user }, source: "cli" }),
  );
  for (const id of targets) await publishJob(client.conn, id, job, client.signJob);
}

/** Salt's CLI argument convention: `key=value` is a keyword argument; values read as YAML-ish scalars. */
export function parseCliArgs(args: readonly string[]): { arg: unknown[]; kwarg: Record<string, unknown> } {
  const arg: unknown[] = [];
  const kwarg: Record<string, unknown> = {};
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
    if (m) kwarg[m[1]!] = scalar(m[2]!);
    else arg.push(scalar(a));
  }
  return { arg, kwarg };
}

function scalar(s: string): unknown {
  if (/^(true|True)$/.test(s)) return true;
  if (/^(false|False)$/.test(s)) return false;
  if (/^(null|None|~)$/.test(s)) return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (/^[[{]/.test(s)) {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  }
  return s;
}
