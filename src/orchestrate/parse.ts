/**
 * Rendered orchestration SLS -> chunks for the requisite engine. Both of Salt's forms:
 * `id: {salt.function: [- name: ..., - tgt: ...]}` and `id: {salt: [function, - name: ...]}`.
 * Every problem names the file, the step id and the field; all are reported at once.
 */
import { ConfigError, ConfigErrors } from "../core/errors.js";
import { TARGET_TYPES, type TargetType } from "../core/reaction.js";
import { REQUISITE_IN_KINDS, REQUISITE_KINDS, parseRequisiteRefs, type Chunk, type ChunkOrder, type RequisiteRef } from "../core/requisites/index.js";
import { didYouMean } from "../config/index.js";
import { TEST_FUNCTIONS, type BatchSize, type StepSpec, type TestStep } from "./spec.js";
import { isMap, typeName } from "../core/index.js";

type Fields = Record<string, unknown>;
type Fail = (field: string, reason: string) => void;

const REQ_FIELDS: readonly string[] = [...REQUISITE_KINDS, ...REQUISITE_IN_KINDS];
const COMMON = ["name", "order", "failhard", "parallel", ...REQ_FIELDS];
const FUNCTION_FIELDS = ["tgt", "tgt_type", "expr_form", "arg", "kwarg", "timeout", "expect_minions", "fail_minions", "batch", "batch_fail_ok"];
const WAIT_FIELDS = ["id_list", "event_id", "timeout", "node"];
const TEST_FIELDS = ["changes", "result", "comment", "warnings"];
/** Salt's default timeout of wait_for_event, in seconds. */
const WAIT_DEFAULT_S = 300;

/** Parses a rendered SLS value into chunks; throws ConfigErrors listing every problem. */
export function parseOrchestration(value: unknown, file: string, sls: string): Chunk<StepSpec>[] {
  const errors: ConfigError[] = [];
  const chunks: Chunk<StepSpec>[] = [];
  if (value === null || value === undefined) return chunks;
  if (!isMap(value)) throw new ConfigErrors([new ConfigError({ file }, `must render to a map of step ids, got ${typeName(value)}`)]);
  for (const [id, body] of Object.entries(value)) {
    if (id.startsWith("__") || id === "include" || id === "extend") continue;
    const fail: Fail = (field, reason) => errors.push(new ConfigError({ file, path: field ? `${id}.${field}` : id }, reason));
    if (typeof body === "string" && body.includes(".")) {
      const chunk = parseStep(id, body, [], sls, (f, r) => fail(f ? `${body}.${f}` : body, r));
      if (chunk) chunks.push(chunk);
      continue;
    }
    if (!isMap(body)) {
      fail("", `must be a map of \`state.function\` to its arguments, got ${typeName(body)}`);
      continue;
    }
    for (const [key, items] of Object.entries(body)) {
      if (key.startsWith("__")) continue;
      const chunk = parseStep(id, key, items, sls, (f, r) => fail(f ? `${key}.${f}` : key, r));
      if (chunk) chunks.push(chunk);
    }
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return chunks;
}

function parseStep(id: string, key: string, items: unknown, sls: string, fail: Fail): Chunk<StepSpec> | undefined {
  const dot = key.indexOf(".");
  const state = dot < 0 ? key : key.slice(0, dot);
  const funs = dot < 0 ? [] : [key.slice(dot + 1)];
  const fields: Fields = {};
  if (!Array.isArray(items ?? [])) return void fail("", `must be a list of arguments (\`- name: ...\`), got ${typeName(items)}`);
  for (const item of (items ?? []) as unknown[]) {
    if (typeof item === "string" && dot < 0) funs.push(item);
    else if (isMap(item) && Object.keys(item).length === 1) Object.assign(fields, item);
    else return void fail("", `has an item that is not a one-key map: ${JSON.stringify(item)}`);
  }
  const fun = funs[0];
  if (fun === undefined || funs.length > 1) return void fail("", `must name one function (e.g. salt.function), got ${funs.length}`);
  const before = { n: 0 };
  const counting: Fail = (f, r) => {
    before.n++;
    fail(f, r);
  };
  const name = fields["name"] === undefined ? id : str(fields, "name", counting);
  const spec = specOf(state, fun, fields, name ?? id, counting);
  const common = commonOf(fields, counting);
  if (before.n > 0 || !spec || name === undefined) return undefined;
  return { id, state, fun, name, sls, ...common, payload: spec };
}

function commonOf(fields: Fields, fail: Fail): Pick<Chunk, "order" | "failhard" | "parallel" | "requisites"> {
  const out: { order?: ChunkOrder; failhard?: boolean; parallel?: boolean; requisites?: Record<string, RequisiteRef[]> } = {};
  const order = fields["order"];
  if (order !== undefined) {
    if (typeof order === "number" || order === "first" || order === "last") out.order = order;
    else fail("order", "must be a number, first or last");
  }
  for (const k of ["failhard", "parallel"] as const) {
    const b = bool(fields, k, fail);
    if (b !== undefined) out[k] = b;
  }
  const reqs: Record<string, RequisiteRef[]> = {};
  for (const k of REQ_FIELDS) {
    if (fields[k] === undefined || fields[k] === null) continue;
    const refs = parseRequisiteRefs(fields[k]);
    if (typeof refs === "string") fail(k, refs);
    else reqs[k] = refs;
  }
  if (Object.keys(reqs).length > 0) out.requisites = reqs;
  return out;
}

function specOf(state: string, fun: string, fields: Fields, name: string, fail: Fail): StepSpec | undefined {
  const key = `${state}.${fun}`;
  switch (key) {
    case "salt.function":
      return known(fields, FUNCTION_FIELDS, fail) && functionSpec(fields, name, fail);
    case "salt.wheel":
    case "salt.runner":
      return { kind: fun as "wheel" | "runner", fun: name, kwarg: rest(fields) };
    case "salt.wait_for_event":
      return known(fields, WAIT_FIELDS, fail) && waitSpec(fields, name, fail);
    default:
      if (state === "test" && fun in TEST_FUNCTIONS) return testSpec(fun as TestStep["fun"], fields, fail);
      fail("", `is not a supported step (use salt.function, salt.wheel, salt.runner, salt.wait_for_event or test.${Object.keys(TEST_FUNCTIONS).join("|")})`);
      return undefined;
  }
}

function functionSpec(fields: Fields, fun: string, fail: Fail): StepSpec | undefined {
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(fun)) fail("name", `must be module.function, got ${JSON.stringify(fun)}`);
  const tgt = fields["tgt"];
  let target: string | string[] | undefined;
  if (typeof tgt === "string" && tgt !== "") target = tgt;
  else if (Array.isArray(tgt) && tgt.length > 0 && tgt.every((t) => typeof t === "string")) target = tgt as string[];
  else fail("tgt", "is required: a target expression or a list of ids");
  const typeField = fields["tgt_type"] !== undefined ? "tgt_type" : "expr_form";
  const tgtType = fields[typeField] ?? (Array.isArray(tgt) ? "list" : "glob");
  if (!(TARGET_TYPES as readonly unknown[]).includes(tgtType)) fail(typeField, `must be one of ${TARGET_TYPES.join(", ")}, got ${JSON.stringify(tgtType)}`);
  const arg = fields["arg"] ?? [];
  if (!Array.isArray(arg)) fail("arg", "must be a list");
  const kwarg = fields["kwarg"] ?? {};
  if (!isMap(kwarg)) fail("kwarg", "must be a map");
  const timeout = seconds(fields, "timeout", fail);
  const batch = batchOf(fields["batch"], fail);
  const failMinions = listOfIds(fields["fail_minions"], fail);
  if (target === undefined) return undefined;
  return {
    kind: "function",
    fun,
    tgt: target,
    tgtType: tgtType as TargetType,
    arg: Array.isArray(arg) ? arg : [],
    kwarg: isMap(kwarg) ? kwarg : {},
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    expectMinions: bool(fields, "expect_minions", fail) ?? false,
    failMinions,
    ...(batch ? { batch } : {}),
    batchFailOk: bool(fields, "batch_fail_ok", fail) ?? false,
  };
}

function waitSpec(fields: Fields, tag: string, fail: Fail): StepSpec | undefined {
  const ids = fields["id_list"] ?? [];
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")) fail("id_list", "must be a list of ids");
  const node = fields["node"] ?? "master";
  if (node !== "master") fail("node", `must be master (waiting on an agent's bus is not supported), got ${JSON.stringify(node)}`);
  const eventId = fields["event_id"] === undefined ? "id" : str(fields, "event_id", fail);
  const timeout = seconds(fields, "timeout", fail) ?? WAIT_DEFAULT_S;
  if (eventId === undefined || !Array.isArray(ids)) return undefined;
  return { kind: "wait_for_event", tag, idList: ids as string[], eventId, timeoutMs: timeout * 1000 };
}

function testSpec(fun: TestStep["fun"], fields: Fields, fail: Fail): StepSpec | undefined {
  const defaults = TEST_FUNCTIONS[fun];
  if (fun !== "nop") known(fields, fun === "configurable_test_state" ? TEST_FIELDS : ["comment"], fail);
  const configurable = fun === "configurable_test_state";
  const comment = fields["comment"] === undefined ? undefined : str(fields, "comment", fail);
  const w = fields["warnings"];
  const warnings = w === undefined ? undefined : typeof w === "string" ? [w] : Array.isArray(w) ? w.map(String) : (fail("warnings", "must be a string or a list"), undefined);
  return {
    kind: "test",
    fun,
    changes: (configurable ? bool(fields, "changes", fail) : undefined) ?? defaults.changes,
    result: (configurable ? bool(fields, "result", fail) : undefined) ?? defaults.result,
    ...(comment !== undefined ? { comment } : {}),
    ...(warnings ? { warnings } : {}),
  };
}

function batchOf(v: unknown, fail: Fail): BatchSize | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^\s*(\d+)\s*(%?)\s*$/.exec(String(v));
  const n = m ? Number(m[1]) : NaN;
  if (!m || n <= 0 || (m[2] === "%" && n > 100) || (typeof v !== "string" && typeof v !== "number")) {
    fail("batch", `must be a positive number of targets or a percentage (e.g. 1 or 25%), got ${JSON.stringify(v)}`);
    return undefined;
  }
  return m[2] === "%" ? { percent: n } : { count: n };
}

function listOfIds(v: unknown, fail: Fail): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  fail("fail_minions", "must be a list of ids or a comma-separated string");
  return [];
}

function known(fields: Fields, allowed: readonly string[], fail: Fail): true {
  const all = [...COMMON, ...allowed];
  for (const k of Object.keys(fields)) {
    if (all.includes(k) || k.startsWith("__")) continue;
    const hint = didYouMean(k, all);
    fail(k, hint ? `is not a known field (did you mean ${hint}?)` : `is not a known field (known: ${allowed.join(", ")})`);
  }
  return true;
}

function rest(fields: Fields): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => !COMMON.includes(k) && !k.startsWith("__")));
}

function str(fields: Fields, k: string, fail: Fail): string | undefined {
  const v = fields[k];
  if (typeof v === "string" && v !== "") return v;
  fail(k, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return undefined;
}

function bool(fields: Fields, k: string, fail: Fail): boolean | undefined {
  const v = fields[k];
  if (v === undefined || typeof v === "boolean") return v;
  fail(k, `must be True or False, got ${JSON.stringify(v)}`);
  return undefined;
}

function seconds(fields: Fields, k: string, fail: Fail): number | undefined {
  const v = fields[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && v > 0) return v;
  fail(k, `must be a positive number of seconds, got ${JSON.stringify(v)}`);
  return undefined;
}


