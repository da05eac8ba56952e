/**
 * renderSls: SLS names -> Salt's high data (salt/state.py render_highstate / render_state).
 * Each file is rendered Jinja then YAML (or as its `#!` line says), with the context Salt gives
 * states; `include` (with the relative `.sibling` forms), `extend` and `exclude` are collected; IDs
 * must be unique across files; every state declaration gets Salt's auto order.
 */
import { ConfigError, TemplateError, errorMessage } from "../core/errors.js";
import { compileTemplate, type TemplateOptions } from "../core/template/index.js";
import { loadSaltYaml, textOutput } from "../config/index.js";
import type { CompilerEnv } from "./exec.js";
import { fnmatchFilter } from "./fnmatch.js";
import { CallCache, renderReplaying } from "./replay.js";
import { saltDict } from "./salt-context.js";
import { availableSls, readSls, slsContext } from "./sls-files.js";
import type { HighData } from "./types.js";

type Dict = Record<string, unknown>;

/** Salt's iorder starts at 10000 (state_auto_order). */
const IORDER_START = 10000;

/** One renderSls call: the environments' SLS lists, files rendered, the auto-order counter. */
class Renderer {
  private readonly avail = new Map<string, string[]>();
  readonly mods = new Set<string>();
  iorder = IORDER_START;
  constructor(readonly env: CompilerEnv) {}

  async availIn(saltenv: string): Promise<string[]> {
    let a = this.avail.get(saltenv);
    if (!a) {
      a = await availableSls(this.env.files, saltenv);
      this.avail.set(saltenv, a);
    }
    return a;
  }

  /** Salt's render_state: one SLS and its includes. */
  async renderState(sls: string, saltenv: string): Promise<{ state: Dict; errors: string[] }> {
    const errors: string[] = [];
    const src = await readSls(this.env.files, sls, saltenv);
    this.mods.add(`${saltenv}:${sls}`);
    if (!src) {
      errors.push(
        `Specified SLS ${sls} in saltenv ${saltenv} is not available on the salt master or through a configured fileserver`,
      );
      return { state: {}, errors };
    }
    let state: unknown;
    try {
      state = await renderStateFile(this.env, src.text, src.path, sls, saltenv);
    } catch (err) {
      errors.push(
        `Rendering SLS '${saltenv}:${sls}' failed: ${err instanceof TemplateError || err instanceof ConfigError ? err.message : errorMessage(err)}`,
      );
      return { state: {}, errors };
    }
    if (state === null || state === undefined) return { state: {}, errors };
    if (!isDict(state)) {
      errors.push(`SLS ${sls} does not render to a dictionary`);
      return { state: {}, errors };
    }
    let include: unknown[] = [];
    if ("include" in state) {
      if (!Array.isArray(state.include))
        errors.push(`Include Declaration in SLS ${sls} is not formed as a list`);
      else include = state.include as unknown[];
      delete state.include;
    }
    handleExtend(state, sls, saltenv, errors);
    handleExclude(state, sls, errors);
    handleStateDecls(state, sls, saltenv, errors);
    for (const inc of include) await this.include(state, inc, sls, src.path, saltenv, errors);
    this.handleIorder(state);
    return { state, errors };
  }

  private async include(
    state: Dict,
    inc: unknown,
    sls: string,
    path: string,
    saltenv: string,
    errors: string[],
  ): Promise<void> {
    let envKey = saltenv;
    let name: string;
    if (isDict(inc)) {
      const [k, v] = Object.entries(inc)[0] ?? ["", ""];
      envKey = k;
      name = String(v);
    } else name = String(inc);
    const envs = await this.env.files.envs();
    if (!envs.includes(envKey)) {
      errors.push(
        `Nonexistent saltenv '${envKey}' found in include of '${name}' within SLS '${saltenv}:${sls}'`,
      );
      return;
    }
    if (name.startsWith(".")) {
      const m = /^(\.+)(.*)$/.exec(name)!;
      const levels = m[1]!.length;
      const comps = sls.split(".");
      if (path.endsWith("/init.sls")) comps.push("init");
      if (levels > comps.length) {
        errors.push(
          `Attempted relative include of '${name}' within SLS '${saltenv}:${sls}' goes beyond top level package `,
        );
        return;
      }
      name = [...comps.slice(0, comps.length - levels), m[2]!].join(".");
    }
    const avail = await this.availIn(envKey);
    if (!fnmatchFilter(avail, name).length) {
      errors.push(
        `Unknown include: Specified SLS ${envKey}: ${name} is not available on the salt master in saltenv(s): ${envKey} `,
      );
      return;
    }
    for (const target of fnmatchFilter(avail, name)) {
      if (this.mods.has(`${envKey}:${target}`)) continue;
      const r = await this.renderState(target, envKey);
      mergeIncluded(state, r.state, errors);
      errors.push(...r.errors);
    }
  }

  /** Salt's _handle_iorder: each state declaration without `order` gets the next auto order. */
  private handleIorder(state: Dict): void {
    for (const body of Object.values(state)) {
      if (!isDict(body)) continue;
      for (const [key, run] of Object.entries(body)) {
        if (key.startsWith("_") || !Array.isArray(run)) continue;
        if (run.some((a) => isDict(a) && Object.keys(a)[0] === "order")) continue;
        run.push({ order: this.iorder++ });
      }
    }
  }
}

/**
 * Salt's SaltCacheLoader: `./x` and `../x` are relative to the template that names them, other
 * names to the root of the environment; files come through the FileClient (suspend and replay).
 */
function templateOptions(env: CompilerEnv, saltenv: string, cache: CallCache): TemplateOptions {
  return {
    loader: (name, fromFile) => {
      const dir = fromFile.includes("/") ? fromFile.slice(0, fromFile.lastIndexOf("/")) : "";
      const joined = name.startsWith("./") || name.startsWith("../") ? `${dir}/${name}` : name;
      const parts: string[] = [];
      for (const part of joined.replace(/^salt:\/\//, "").split("/")) {
        if (part === "" || part === ".") continue;
        if (part === "..") parts.pop();
        else parts.push(part);
      }
      const path = parts.join("/");
      if (!path) return undefined;
      const text = cache.get(`file:${saltenv}:${path}`, () => env.files.read(path, saltenv)) as string | undefined;
      return text === undefined ? undefined : { source: text, file: path };
    },
    parseYaml: (text, file) => loadSaltYaml(text, file),
  };
}

/** Renders one state or top file: Jinja (per its `#!` line) then YAML, with Salt's state context; `salt[...]` calls replayed. */
export async function renderStateFile(
  env: CompilerEnv,
  text: string,
  path: string,
  sls: string,
  saltenv: string,
): Promise<unknown> {
  const { pipeline, body } = shebang(text, path);
  let out = body;
  for (const step of pipeline) {
    if (step === "jinja") {
      const cache = new CallCache();
      const template = compileTemplate(out, path, templateOptions(env, saltenv, cache));
      const context = {
        ...slsContext(path, sls),
        saltenv,
        env: saltenv,
        grains: env.grains,
        pillar: env.pillar,
        opts: env.opts,
        salt: saltDict({ grains: env.grains, pillar: env.pillar, opts: env.opts, exec: env.exec, cache }),
      };
      out = await renderReplaying(() => template.render(context, textOutput), `${saltenv}:${sls}`);
    } else return step === "json" ? JSON.parse(out) : loadSaltYaml(out, path);
  }
  return loadSaltYaml(out, path);
}

/** The renderer pipeline of a file's first line (`#!jinja|yaml`, `#!yaml`); default jinja|yaml. */
function shebang(text: string, path: string): { pipeline: string[]; body: string } {
  if (!text.startsWith("#!")) return { pipeline: ["jinja", "yaml"], body: text };
  const nl = text.indexOf("\n");
  const line = (nl < 0 ? text : text.slice(0, nl)).slice(2).trim();
  const pipeline = line.split("|").map((s) => s.trim().split(/\s+/)[0]!.toLowerCase());
  for (const p of pipeline) {
    if (!["jinja", "yaml", "json"].includes(p))
      throw new ConfigError(
        { file: path, line: 1 },
        `the renderer '${p}' is not supported (supported: jinja, yaml, json)`,
      );
  }
  return { pipeline, body: nl < 0 ? "" : `\n${text.slice(nl + 1)}` };
}

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Salt's _handle_extend: `extend:` moves to `__extend__` with `pkg.installed` keys split. */
function handleExtend(state: Dict, sls: string, saltenv: string, errors: string[]): void {
  if (!("extend" in state)) return;
  const ext = state.extend;
  delete state.extend;
  if (!isDict(ext)) {
    errors.push(`Extension value in SLS '${sls}' is not a dictionary`);
    return;
  }
  for (const [name, body] of Object.entries(ext)) {
    if (!isDict(body)) {
      errors.push(`Extension name '${name}' in SLS '${sls}' is not a dictionary`);
      continue;
    }
    body.__sls__ ??= sls;
    body.__env__ ??= saltenv;
    for (const key of Object.keys(body)) {
      if (key.startsWith("_") || !Array.isArray(body[key]) || !key.includes(".")) continue;
      const [mod, fun] = splitDecl(key);
      body[mod] = [...(body[key] as unknown[]), fun];
      delete body[key];
    }
  }
  ((state.__extend__ ??= []) as unknown[]).push(ext);
}

function handleExclude(state: Dict, sls: string, errors: string[]): void {
  if (!("exclude" in state)) return;
  const exc = state.exclude;
  delete state.exclude;
  if (!Array.isArray(exc)) {
    errors.push(`Exclude Declaration in SLS ${sls} is not formed as a list`);
    return;
  }
  ((state.__exclude__ ??= []) as unknown[]).push(...(exc as unknown[]));
}

function splitDecl(key: string): [string, string] {
  const dot = key.indexOf(".");
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** Salt's _handle_state_decls: `id: pkg.installed` and `pkg.installed: [...]` become `pkg: [..., installed]`. */
function handleStateDecls(state: Dict, sls: string, saltenv: string, errors: string[]): void {
  for (const [name, body] of Object.entries(state)) {
    if (name === "__extend__" || name === "__exclude__") continue;
    if (!isDict(body)) {
      if (typeof body === "string" && body.includes(".")) {
        const [mod, fun] = splitDecl(body);
        state[name] = { __sls__: sls, __env__: saltenv, [mod]: [fun] };
        continue;
      }
      errors.push(`ID ${name} in SLS ${sls} is not a dictionary`);
      continue;
    }
    const seen = new Set<string>();
    for (const key of Object.keys(body)) {
      if (key.startsWith("_") || !Array.isArray(body[key])) continue;
      if (key.includes(".")) {
        const [mod, fun] = splitDecl(key);
        if (seen.has(mod)) {
          errors.push(`ID '${name}' in SLS '${sls}' contains multiple state declarations of the same type`);
          continue;
        }
        const run = body[key] as unknown[];
        delete body[key];
        body[mod] = [...run, fun];
        seen.add(mod);
        continue;
      }
      seen.add(key);
    }
    body.__sls__ ??= sls;
    body.__env__ ??= saltenv;
  }
}

/** Python's == on plain data: mappings compare without regard to key order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return a === b;
}

/** Salt's merge_included_states: extend/exclude lists concatenate; other IDs must not conflict. */
function mergeIncluded(high: Dict, state: Dict, errors: string[]): void {
  for (const key of ["__extend__", "__exclude__"] as const) {
    if (key in state) {
      ((high[key] ??= []) as unknown[]).push(...(state[key] as unknown[]));
      delete state[key];
    }
  }
  for (const [id, body] of Object.entries(state)) {
    const prev = high[id];
    if (prev !== undefined && !sameValue(prev, body)) {
      const a = prev as Dict;
      const b = body as Dict;
      errors.push(
        `Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is '${id}' and is found in SLS '${String(a.__env__)}:${String(a.__sls__)}' and SLS '${String(b.__env__)}:${String(b.__sls__)}'`,
      );
    }
  }
  Object.assign(high, state);
}

/** Salt's render_highstate for one environment: SLS names (globs allowed) -> high data and errors. */
export async function renderSls(
  mods: readonly string[],
  env: CompilerEnv,
): Promise<{ high: HighData; errors: string[] }> {
  const r = new Renderer(env);
  const high: Dict = {};
  const errors: string[] = [];
  const avail = await r.availIn(env.saltenv);
  for (const match of mods) {
    const files = fnmatchFilter(avail, match);
    for (const sls of files.length ? files : [match]) {
      if (r.mods.has(`${env.saltenv}:${sls}`)) continue;
      const res = await r.renderState(sls, env.saltenv);
      mergeIncluded(high, res.state, res.errors);
      const mine = `SLS ${match} in saltenv`;
      errors.push(
        ...res.errors.map((e) =>
          e.includes("is not available") && e.includes(mine)
            ? `No matching sls found for '${match}' in env '${env.saltenv}'`
            : e,
        ),
      );
    }
  }
  if (Array.isArray(high.__extend__)) {
    const seen: string[] = [];
    const unique: unknown[] = [];
    for (const ext of high.__extend__ as Dict[]) {
      for (const [k, v] of Object.entries(ext)) {
        const key = JSON.stringify([k, v]);
        if (!seen.includes(key)) {
          seen.push(key);
          unique.push({ [k]: v });
        }
      }
    }
    high.__extend__ = unique;
  }
  return { high: high as HighData, errors };
}

/**
 * Renders a text template (file.managed `template: jinja`, cp.get_template) as Salt does: Jinja
 * with the state context (grains, pillar, opts, salt, saltenv) plus `context`; output as Python
 * prints it; `salt[...]` calls replayed.
 */
export async function renderTextTemplate(env: CompilerEnv, source: string, file: string, context: Readonly<Record<string, unknown>>): Promise<string> {
  const cache = new CallCache();
  const template = compileTemplate(source, file, templateOptions(env, env.saltenv, cache));
  const full = {
    saltenv: env.saltenv,
    grains: env.grains,
    pillar: env.pillar,
    opts: env.opts,
    salt: saltDict({ grains: env.grains, pillar: env.pillar, opts: env.opts, exec: env.exec, cache }),
    ...context,
  };
  return renderReplaying(() => template.render(full, textOutput), file);
}
