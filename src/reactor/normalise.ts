/**
 * Rendered reactor SLS data -> Reactions, following Salt (salt/utils/reactor.py ReactWrap.run and
 * salt/state.py compile_high_data): `local.`/`cmd.`, `runner.`, `wheel.`, `caller.`; the `args:`
 * schema (list of one-key maps -> kwarg, wins over `arg`/`kwarg` with a warning) and the old one
 * (`arg:` list, `kwarg:` map; for runner/wheel the keyword arguments directly under the function).
 */
import { TARGET_TYPES, type Reaction, type ReactionClient, type TargetType } from "../core/reaction.js";
import { isMap, typeName } from "../core/index.js";

/** A problem with one file for one event: the file's reactions are dropped. */
export interface ReactionProblem {
  readonly file: string;
  /** 1-based line when known, else null. */
  readonly line: number | null;
  readonly message: string;
}

/** A reaction with what Salt sorts on. */
export interface LowChunk {
  readonly reaction: Reaction;
  /** Salt's `state`: the client as written (`cmd` before it becomes `local`). */
  readonly state: string;
  /** Salt's `name`: the id, or a `name:` argument. */
  readonly name: string;
  /** `order:` as written (number, `first`, `last`, ...), if any. */
  readonly order?: unknown;
}

/** What normalising one file gives. */
export interface NormaliseResult {
  readonly chunks: LowChunk[];
  readonly warnings: ReactionProblem[];
  /** Non-empty means the file's chunks must be dropped. */
  readonly errors: ReactionProblem[];
}

const CLIENTS: Readonly<Record<string, ReactionClient>> = { local: "local", cmd: "local", runner: "runner", wheel: "wheel", caller: "caller" };
/** Keys of Salt's low chunks that are never arguments. */
const INTERNAL = new Set(["name", "order", "fun", "state", "__id__", "__sls__", "__env__"]);
const ARG_KEYS = new Set(["args", "arg", "kwarg"]);
const TARGET_KEYS = new Set(["tgt", "tgt_type", "expr_form"]);

/** Normalises the rendered value of one SLS file (a map of ids; null/empty means none). */
export function normaliseSls(value: unknown, file: string): NormaliseResult {
  const res: NormaliseResult = { chunks: [], warnings: [], errors: [] };
  if (value === null || value === undefined) return res;
  if (!isMap(value)) {
    res.errors.push(problem(file, "", `must render to a map of reaction ids, got ${typeName(value)}`));
    return res;
  }
  for (const [id, body] of Object.entries(value)) {
    if (id.startsWith("__")) continue;
    if (!isMap(body)) {
      res.errors.push(problem(file, id, `must be a map of \`client.function\` to its arguments, got ${typeName(body)}`));
      continue;
    }
    for (const [key, run] of Object.entries(body)) {
      if (!key.startsWith("__")) normaliseCall(id, key, run, file, res);
    }
  }
  return res;
}

function normaliseCall(id: string, key: string, run: unknown, file: string, res: NormaliseResult): void {
  const path = `${id}.${key}`;
  const dot = key.indexOf(".");
  const state = dot < 0 ? key : key.slice(0, dot);
  const client = CLIENTS[state];
  if (client === undefined) {
    res.errors.push(problem(file, id, `uses the unknown client ${JSON.stringify(state)} in ${JSON.stringify(key)} (expected local, cmd, runner, wheel or caller)`));
    return;
  }
  const low: Record<string, unknown> = {};
  const funs = dot < 0 ? [] : [key.slice(dot + 1)];
  const items = run === null || run === undefined ? [] : run;
  if (!Array.isArray(items)) {
    res.errors.push(problem(file, path, `must be a list of arguments (\`- tgt: ...\`), got ${typeName(run)}`));
    return;
  }
  for (const item of items) {
    if (typeof item === "string" && dot < 0) funs.push(item);
    else if (isMap(item)) Object.assign(low, item);
    else res.errors.push(problem(file, path, `has an item that is not a one-key map: ${JSON.stringify(item)}`));
  }
  if (funs.length === 0 || funs.some((f) => f === "")) {
    res.errors.push(problem(file, path, `names no function (expected ${state}.<module>.<function>)`));
    return;
  }
  for (const fun of funs) {
    const chunk = buildChunk(id, state, client, fun, low, file, `${id}.${state}.${fun}`, res);
    if (chunk) res.chunks.push(chunk);
  }
}

function buildChunk(
  id: string,
  state: string,
  client: ReactionClient,
  fun: string,
  low: Record<string, unknown>,
  file: string,
  path: string,
  res: NormaliseResult,
): LowChunk | undefined {
  const before = res.errors.length;
  const fail = (field: string, reason: string) => res.errors.push(problem(file, `${path}.${field}`, reason));
  const { arg, kwarg } = argsOf(client, low, fail, (msg) => res.warnings.push(problem(file, path, msg)));
  const target = client === "local" ? targetOf(low, fail, (msg) => res.warnings.push(problem(file, path, msg))) : {};
  const extra: Record<string, unknown> = {};
  const legacyKw = (client === "runner" || client === "wheel") && !("args" in low);
  for (const [k, v] of Object.entries(low)) {
    if (INTERNAL.has(k) || ARG_KEYS.has(k) || (client === "local" && TARGET_KEYS.has(k)) || legacyKw) continue;
    extra[k] = v;
  }
  const order = low["order"];
  if (order !== undefined && typeof order !== "number" && typeof order !== "string") fail("order", "must be a number, first or last");
  if (res.errors.length > before) return undefined;
  const reaction: Reaction = {
    id,
    file,
    client,
    fun,
    ...target,
    arg,
    kwarg,
    ...(typeof order === "number" ? { order } : {}),
    extra,
  };
  const name = typeof low["name"] === "string" ? low["name"] : id;
  return { reaction, state, name, ...(order !== undefined ? { order } : {}) };
}

type Fail = (field: string, reason: string) => void;

function argsOf(client: ReactionClient, low: Record<string, unknown>, fail: Fail, warn: (m: string) => void): { arg: unknown[]; kwarg: Record<string, unknown> } {
  if ("args" in low) {
    for (const k of ["arg", "kwarg"]) if (k in low) warn(`ignores '${k}' because 'args' is given`);
    const args = low["args"];
    if (client === "caller" && Array.isArray(args) && !isDictList(args)) return { arg: args, kwarg: {} };
    if (isMap(args)) return { arg: [], kwarg: { ...args } };
    if (Array.isArray(args) && isDictList(args)) return { arg: [], kwarg: Object.assign({}, ...args) as Record<string, unknown> };
    fail("args", "must be a list of one-key maps (`- name: value`)");
    return { arg: [], kwarg: {} };
  }
  let arg: unknown[] = [];
  let kwarg: Record<string, unknown> = {};
  if ("arg" in low && low["arg"] !== null) {
    if (Array.isArray(low["arg"])) arg = low["arg"];
    else fail("arg", "must be a list");
  }
  if ("kwarg" in low && low["kwarg"] !== null) {
    if (isMap(low["kwarg"])) kwarg = { ...low["kwarg"] };
    else fail("kwarg", "must be a map");
  }
  // Salt (salt/utils/reactor.py) maps the keys under a runner or wheel function onto its
  // signature unless both `arg` and `kwarg` are given; here they become keyword arguments.
  // An explicit `kwarg:` entry wins over a key of the same name.
  if (client === "runner" || client === "wheel") {
    const direct = Object.keys(low).filter((k) => !INTERNAL.has(k) && !ARG_KEYS.has(k));
    if ("arg" in low && "kwarg" in low) {
      if (direct.length) warn(`ignores ${direct.map((k) => `'${k}'`).join(", ")} because both 'arg' and 'kwarg' are given`);
    } else {
      for (const k of direct) {
        if (Object.hasOwn(kwarg, k)) warn(`ignores '${k}' under the function because 'kwarg' gives it`);
        else kwarg[k] = low[k];
      }
    }
  }
  return { arg, kwarg };
}

function targetOf(low: Record<string, unknown>, fail: Fail, warn: (m: string) => void): { tgt?: string | readonly string[]; tgt_type?: TargetType } {
  const tgt = low["tgt"];
  let out: { tgt?: string | readonly string[]; tgt_type?: TargetType } = {};
  if (tgt === undefined || tgt === null || tgt === "") fail("tgt", "is required for local reactions");
  else if (typeof tgt === "string" || (Array.isArray(tgt) && tgt.every((t) => typeof t === "string"))) out = { tgt: tgt as string | string[] };
  else if (typeof tgt === "number") out = { tgt: String(tgt) };
  else fail("tgt", "must be a string or a list of strings");
  if ("tgt_type" in low && "expr_form" in low) warn("ignores 'expr_form' because 'tgt_type' is given");
  const field = "tgt_type" in low ? "tgt_type" : "expr_form" in low ? "expr_form" : undefined;
  const type = field === undefined ? "glob" : low[field];
  if (!(TARGET_TYPES as readonly unknown[]).includes(type)) {
    fail(field ?? "tgt_type", `must be one of ${TARGET_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    return out;
  }
  return { ...out, tgt_type: type as TargetType };
}

/** Salt's order_chunks: by `order:` (first, numbers, default cap, last, negatives) then state+name+fun. */
export function orderChunks(chunks: readonly LowChunk[]): LowChunk[] {
  let cap = 1;
  for (const c of chunks) {
    if (Number.isInteger(c.order) && (c.order as number) > cap - 1 && (c.order as number) > 0) cap = (c.order as number) + 100;
  }
  const rank = (c: LowChunk): number => {
    const o = c.order;
    let n: number;
    if (o === undefined) return cap;
    if (typeof o === "number") n = o;
    else n = o === "last" ? cap + 1000000 : o === "first" ? 0 : cap;
    return n < 0 ? cap + 1000000 + n : n;
  };
  const keyed = chunks.map((c) => ({ c, r: rank(c), s: `${c.state}${c.name}${c.reaction.fun}` }));
  keyed.sort((a, b) => a.r - b.r || (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  return keyed.map((k) => k.c);
}

function isDictList(v: readonly unknown[]): boolean {
  return v.every((x) => isMap(x) && Object.keys(x).length === 1);
}



function problem(file: string, path: string, reason: string): ReactionProblem {
  return { file, line: null, message: path ? `${path} ${reason}` : reason };
}
