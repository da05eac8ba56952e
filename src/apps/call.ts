/**
 * `reactor call`: salt-call. `--local` runs a function on this host without NATS (a masterless
 * agent: agent.yaml's id, static grains, file_roots); without it, the agent of this host runs it
 * through the service. Output as salt-call prints it: `{"local": <return>}` through the nested,
 * highstate, json or yaml outputter.
 */
import { mkdir } from "node:fs/promises";
import {
  createBuiltinRegistry,
  createExecutor,
  createServiceManager,
  loadUserModules,
} from "../agent/index.js";
import { loadAgentConfig, toYaml, type AgentConfig } from "../config/index.js";
import type { EventSink, JobReturn, Logger, ReactorEvent } from "../core/index.js";
import { newJid } from "../core/job.js";
import { formatHighstate, localFileClient } from "../state/index.js";
import { formatNested } from "./output-nested.js";
import { detectedGrains } from "./grains.js";
import { addStateFunctions } from "./states.js";

/** salt-call's outputters. */
export const CALL_OUTPUTS = ["nested", "highstate", "json", "yaml", "txt"] as const;
export type CallOutput = (typeof CALL_OUTPUTS)[number];

/** Runs `fun` on this host with no NATS (salt-call --local). */
export async function callLocal(o: {
  readonly configPath: string;
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  readonly log: Logger;
  readonly id?: string;
}): Promise<{
  config: AgentConfig;
  ret: JobReturn;
  events: { tag: string; data: Record<string, unknown> }[];
}> {
  const config = await loadAgentConfig(o.configPath, o.id ? { id: o.id } : {});
  await mkdir(config.state_dir, { recursive: true, mode: 0o700 });
  const events: { tag: string; data: Record<string, unknown> }[] = [];
  // Masterless: events go nowhere (as salt-call --local); they are logged.
  const emit: EventSink = {
    emit: (tag, data) => {
      events.push({ tag, data });
      o.log.info({ tag }, "event not sent: masterless call");
      return Promise.resolve({ tag, data } as unknown as ReactorEvent);
    },
  };
  const files = localFileClient(config.file_roots);
  const serviceManager = createServiceManager(config);
  const registry = createBuiltinRegistry();
  if (config.modules_dir) {
    const res = await loadUserModules(registry, config.modules_dir, o.log);
    for (const e of res.errors) o.log.error({ err: e }, "user module not loaded");
  }
  let grains: Record<string, unknown> | undefined;
  const grainsOf = async () => (grains ??= await detectedGrains(config, o.log));
  addStateFunctions(registry, { config, files, emit, serviceManager, logger: o.log, grains: grainsOf });
  const executor = createExecutor({ config, registry, emit, serviceManager, files, logger: o.log });
  const ret = await executor.run({
    jid: newJid(),
    fun: o.fun,
    arg: [...o.arg],
    kwarg: { ...o.kwarg },
    tgt: config.id,
    tgt_type: "list",
    timeout: config.job_timeout,
    expires: new Date(Date.now() + 24 * 3600_000).toISOString(),
    user: "root",
  });
  return { config, ret, events };
}

/** The outputter salt-call picks for `fun` (state functions print the highstate outputter). */
export function defaultOutput(fun: string): CallOutput {
  return /^state\.(apply|sls|highstate|single|test|top|sls_id)$/.test(fun) ? "highstate" : "nested";
}

/** salt-call's printed output of `{host: value}`. */
export function formatCallOutput(host: string, value: unknown, out: CallOutput): string {
  switch (out) {
    case "json":
      return JSON.stringify({ [host]: value }, null, 4);
    case "yaml":
      return toYaml({ [host]: value }).trimEnd();
    case "txt":
      return `${host}: ${typeof value === "string" ? value : JSON.stringify(value)}`;
    case "highstate":
      return formatHighstate(host, value);
    case "nested":
      return formatNested({ [host]: value });
  }
}
