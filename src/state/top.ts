/**
 * The top file (salt/state.py get_tops, merge_tops with the default `merge` strategy,
 * top_matches): `top.sls` of each environment, rendered as a state file, matched against this agent
 * with the project's targeting (`match:` glob by default, grain, pcre, list, compound, grain_pcre).
 */
import { errorMessage } from "../core/errors.js";
import type { TargetType } from "../core/reaction.js";
import { compileTarget } from "../core/targeting/index.js";
import type { CompilerEnv } from "./exec.js";
import { renderStateFile } from "./render.js";

type Dict = Record<string, unknown>;
/** A merged top: saltenv -> target -> its list (`- match: grain`, SLS names, `{env: sls}`). */
export type TopData = Record<string, Record<string, unknown[]>>;

const TOP_FILE = "top.sls";

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Renders every environment's top.sls and merges them as Salt's `merge` strategy. */
export async function mergedTop(env: CompilerEnv): Promise<{ top: TopData; errors: string[] }> {
  const errors: string[] = [];
  const tops: Record<string, Dict> = {};
  const envs = await env.files.envs();
  for (const saltenv of envs) {
    const text = await env.files.read(TOP_FILE, saltenv);
    if (text === undefined) continue;
    try {
      const value = await renderStateFile({ ...env, saltenv }, text, TOP_FILE, "top", saltenv);
      if (value === null) continue;
      if (!isDict(value)) errors.push(`Top file of saltenv '${saltenv}' does not render to a dictionary`);
      else tops[saltenv] = value;
    } catch (err) {
      errors.push(`Rendering Primary Top file failed, render error:\n${errorMessage(err)}`);
    }
  }
  const top: TopData = {};
  const addSection = (saltenv: string, targets: unknown): void => {
    if (!isDict(targets)) {
      errors.push("Unable to render top file. No targets found.");
      return;
    }
    const section = (top[saltenv] ??= {});
    for (const [tgt, list] of Object.entries(targets)) section[tgt] = Array.isArray(list) ? list : [list];
  };
  for (const [saltenv, targets] of Object.entries(tops.base ?? {}))
    if (saltenv !== "include") addSection(saltenv, targets);
  for (const [cenv, ctop] of Object.entries(tops)) {
    if (cenv === "base") continue;
    for (const [saltenv, targets] of Object.entries(ctop)) {
      if (saltenv === "include" || saltenv !== cenv || saltenv in top) continue;
      addSection(saltenv, targets);
    }
  }
  return { top, errors };
}

/** `match:` values of a top entry -> the project's target types. */
function targetFor(tgt: string, match: string): { tgt: string; type: TargetType } {
  switch (match) {
    case "glob":
    case "pcre":
    case "list":
    case "grain":
    case "compound":
      return { tgt, type: match };
    case "grain_pcre":
      return { tgt: `P@${tgt}`, type: "compound" };
    case "pillar":
      return { tgt: `I@${tgt}`, type: "compound" };
    case "ipcidr":
      return { tgt: `S@${tgt}`, type: "compound" };
    default:
      throw new Error(`match type '${match}' is not supported in the top file`);
  }
}

/** Salt's top_matches: the SLS names of this agent by saltenv. */
export async function topMatches(
  env: CompilerEnv,
): Promise<{ matches: Record<string, string[]>; errors: string[] }> {
  const { top, errors } = await mergedTop(env);
  if (errors.length) return { matches: {}, errors };
  const matches: Record<string, string[]> = {};
  const envs = await env.files.envs();
  const minion = { id: env.id, grains: env.grains };
  for (const [saltenv, body] of Object.entries(top)) {
    for (const [tgt, data] of Object.entries(body)) {
      const matchItem = data.find((d) => isDict(d) && "match" in d) as Dict | undefined;
      const match = matchItem ? String(matchItem.match) : "glob";
      let ok: boolean;
      try {
        const t = targetFor(tgt, match);
        ok = compileTarget(t.tgt, t.type).test(minion);
      } catch (err) {
        errors.push(`Top file target '${tgt}' in saltenv '${saltenv}': ${errorMessage(err)}`);
        continue;
      }
      if (!ok) continue;
      const list = (matches[saltenv] ??= []);
      for (const item of data) {
        if (typeof item === "string") list.push(item);
        else if (isDict(item) && !("match" in item)) {
          const [envKey, sls] = Object.entries(item)[0] ?? [];
          if (envKey && envs.includes(envKey)) (matches[envKey] ??= []).push(String(sls));
        }
      }
    }
  }
  return { matches, errors };
}
