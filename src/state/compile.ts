/**
 * compileHigh: high data -> low chunks (salt/state.py call_high's first half): reconcile
 * `extend`, verify the structure with Salt's error texts, apply `exclude`, expand `names`, and
 * order the chunks as order_chunks does. Requisites stay in the chunks under their Salt keys.
 */
import { fnmatchFilter } from "./fnmatch.js";
import type { HighData, LowChunk } from "./types.js";

type Dict = Record<string, unknown>;

const REQUISITE_KEYS = new Set([
  "require",
  "watch",
  "prereq",
  "onfail",
  "onchanges",
  "use",
  "listen",
  "require_any",
  "watch_any",
  "onfail_any",
  "onfail_all",
  "onchanges_any",
]);

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Salt's find_name: IDs whose `name` (or names) is `name`, for `extend` by name. */
function findName(name: string, stateType: string, high: Dict): string[] {
  const out: string[] = [];
  for (const [id, body] of Object.entries(high)) {
    if (id.startsWith("__") || !isDict(body) || !Array.isArray(body[stateType])) continue;
    for (const arg of body[stateType] as unknown[]) {
      if (!isDict(arg)) continue;
      if (arg.name === name) out.push(id);
      if (
        Array.isArray(arg.names) &&
        arg.names.some((n) => n === name || (isDict(n) && Object.keys(n)[0] === name))
      )
        out.push(id);
    }
  }
  return out;
}

/** Salt's reconcile_extend. */
function reconcileExtend(high: Dict, errors: string[]): void {
  const ext = high.__extend__;
  delete high.__extend__;
  if (!Array.isArray(ext)) return;
  const slsExcludes = ((high.__exclude__ as unknown[] | undefined) ?? []).flatMap((e) =>
    typeof e === "string" ? [e] : isDict(e) && e.sls ? [String(e.sls)] : [],
  );
  for (const chunk of ext as Dict[]) {
    for (const [extName, bodyRaw] of Object.entries(chunk)) {
      const body = bodyRaw as Dict;
      let name = extName;
      const stateType = Object.keys(body).find((k) => !k.startsWith("__"));
      if (!stateType) continue;
      const target = high[name] as Dict | undefined;
      if (!target || !(stateType in target)) {
        const ids = findName(name, stateType, high);
        if (ids.length !== 1) {
          const env = String(body.__env__ ?? "base");
          const sls = String(body.__sls__ ?? "base");
          errors.push(
            `Cannot extend ID '${name}' in '${env}:${sls}'. It is not part of the high state.\nThis is likely due to a missing include statement or an incorrectly typed ID.\nEnsure that a state with an ID of '${name}' is available\nin environment '${env}' and to SLS '${sls}'`,
          );
          continue;
        }
        name = ids[0]!;
      }
      if (slsExcludes.includes(String(body.__sls__))) continue;
      const into = high[name] as Dict;
      for (const [state, run] of Object.entries(body)) {
        if (state.startsWith("__")) continue;
        if (!Array.isArray(into[state])) {
          into[state] = run;
          continue;
        }
        const list = into[state] as unknown[];
        for (const arg of run as unknown[]) {
          let update = false;
          for (let i = 0; i < list.length; i++) {
            const val = list[i];
            if (typeof arg === "string" && typeof val === "string") {
              list[i] = arg;
              update = true;
              continue;
            }
            if (isDict(arg) && isDict(val)) {
              const first = Object.keys(arg)[0]!;
              const valFirst = Object.keys(val)[0];
              if (first === valFirst) {
                if (REQUISITE_KEYS.has(first) && Array.isArray(val[first]))
                  (val[first] as unknown[]).push(...(arg[first] as unknown[]));
                else list[i] = arg;
                update = true;
              }
              if (first === "name" && valFirst === "names") list[i] = arg;
            }
          }
          if (!update) list.push(arg);
        }
      }
    }
  }
}

/** Salt's apply_exclude. */
function applyExclude(high: Dict): void {
  const exclude = high.__exclude__;
  delete high.__exclude__;
  if (!Array.isArray(exclude)) return;
  const exSls = new Set<string>();
  const exId = new Set<string>();
  for (const e of exclude as unknown[]) {
    if (typeof e === "string") exSls.add(e);
    else if (isDict(e) && Object.keys(e).length === 1) {
      if (e.sls !== undefined) exSls.add(String(e.sls));
      else if (e.id !== undefined) exId.add(String(e.id));
    }
  }
  for (const [id, body] of Object.entries(high)) {
    const sls = isDict(body) ? String(body.__sls__ ?? "") : "";
    if (sls && [...exSls].some((p) => fnmatchFilter([sls], p).length)) exId.add(id);
  }
  for (const id of exId) delete high[id];
}

/** Salt's verify_high (structure only; requisite targets are checked by the runner). */
function verifyHigh(high: Dict): string[] {
  const errors: string[] = [];
  for (const [name, body] of Object.entries(high)) {
    if (name.startsWith("__")) continue;
    if (!isDict(body)) {
      errors.push(`The type ${name} in ${JSON.stringify(body)} is not formatted as a dictionary`);
      continue;
    }
    const sls = String(body.__sls__);
    for (const [state, run] of Object.entries(body)) {
      if (state.startsWith("__")) continue;
      if (run === null) {
        errors.push(
          `ID '${name}' in SLS '${sls}' contains a short declaration (${state}) with a trailing colon. When not passing any arguments to a state, the colon must be omitted.`,
        );
        continue;
      }
      if (!Array.isArray(run)) {
        errors.push(`State '${name}' in SLS '${sls}' is not formed as a list`);
        continue;
      }
      let fun = state.includes(".") ? 1 : 0;
      for (const arg of run as unknown[]) {
        if (typeof arg === "string") {
          fun++;
          if (arg.trim().includes(" "))
            errors.push(
              `The function "${arg}" in state "${name}" in SLS "${sls}" has whitespace, a function with whitespace is not supported, perhaps this is an argument that is missing a ":"`,
            );
        } else if (isDict(arg)) {
          const keys = Object.keys(arg);
          const first = keys[0]!;
          if (first === "names" && !Array.isArray(arg.names))
            errors.push(
              `The 'names' argument in state '${name}' in SLS '${sls}' needs to be formed as a list`,
            );
          if (["require", "watch", "prereq", "onchanges"].includes(first)) {
            if (!Array.isArray(arg[first]))
              errors.push(
                `The ${first} statement in state '${name}' in SLS '${sls}' needs to be formed as a list`,
              );
            else
              for (const req of arg[first] as unknown[]) {
                if (typeof req === "string") continue;
                if (!isDict(req)) {
                  errors.push(
                    `Requisite declaration ${JSON.stringify(req)} in SLS ${sls} is not formed as a single key dictionary`,
                  );
                  continue;
                }
                const rk = Object.keys(req)[0] ?? "";
                if (rk.includes("."))
                  errors.push(
                    `Invalid requisite type '${rk}' in state '${name}', in SLS '${sls}'. Requisite types must not contain dots, did you mean '${rk.slice(0, rk.indexOf("."))}'?`,
                  );
              }
          }
          if (keys.length !== 1)
            errors.push(`Multiple dictionaries defined in argument of state '${name}' in SLS '${sls}'`);
        }
      }
      if (!fun) {
        if (state !== "require" && state !== "watch")
          errors.push(`No function declared in state '${state}' in SLS '${sls}'`);
      } else if (fun > 1) errors.push(`Too many functions declared in state '${state}' in SLS '${sls}'`);
    }
  }
  return errors;
}

/** Salt's compile_high_data: one chunk per (ID, state, name), `names` expanded with name_order. */
function compileHighData(high: Dict): Dict[] {
  const chunks: Dict[] = [];
  for (const [id, bodyRaw] of Object.entries(high)) {
    if (id.startsWith("__")) continue;
    const body = bodyRaw as Dict;
    for (const [state, run] of Object.entries(body)) {
      if (state.startsWith("__")) continue;
      const funcs: string[] = [];
      const names: unknown[] = [];
      const chunk: Dict = { state, name: id, __sls__: body.__sls__, __env__: body.__env__, __id__: id };
      for (const arg of run as unknown[]) {
        if (typeof arg === "string") {
          if (!funcs.includes(arg)) funcs.push(arg);
          continue;
        }
        if (!isDict(arg)) continue;
        for (const [key, val] of Object.entries(arg)) {
          if (key === "names") {
            for (const n of val as unknown[])
              if (!names.some((x) => JSON.stringify(x) === JSON.stringify(n))) names.push(n);
          } else if (key === "state") continue;
          else if (key === "name" && typeof val !== "string") chunk.name = id;
          else chunk[key] = val;
        }
      }
      const entries = names.length ? names : [undefined];
      entries.forEach((entry, i) => {
        const live = clone(chunk);
        if (entry !== undefined) {
          if (isDict(entry)) {
            const lowName = Object.keys(entry)[0]!;
            live.name = lowName;
            for (const extra of (entry[lowName] as unknown[] | undefined) ?? [])
              if (isDict(extra)) Object.assign(live, extra);
          } else live.name = entry;
          live.name_order = i + 1;
        }
        for (const fun of funcs) chunks.push({ ...clone(live), fun });
      });
    }
  }
  return orderChunks(chunks);
}

/** Salt's order_chunks: numeric orders, `first`/`last`, name_order, then state+name+fun. */
export function orderChunks(chunks: Dict[]): Dict[] {
  let cap = 1;
  for (const c of chunks)
    if (Number.isInteger(c.order) && (c.order as number) > cap - 1 && (c.order as number) > 0)
      cap = (c.order as number) + 100;
  for (const c of chunks) {
    if (!("order" in c)) c.order = cap;
    else if (typeof c.order !== "number")
      c.order = c.order === "last" ? cap + 1000000 : c.order === "first" ? 0 : cap;
    if ("name_order" in c) {
      c.order = (c.order as number) + (c.name_order as number) / 10000;
      delete c.name_order;
    }
    if ((c.order as number) < 0) c.order = cap + 1000000 + (c.order as number);
  }
  const key = (c: Dict) => `${String(c.state)}${String(c.name)}${String(c.fun)}`;
  return chunks
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        (a.c.order as number) - (b.c.order as number) ||
        (key(a.c) < key(b.c) ? -1 : key(a.c) > key(b.c) ? 1 : a.i - b.i),
    )
    .map((x) => x.c);
}

/** High data -> ordered low chunks, or Salt's error strings. */
export function compileHigh(input: HighData): { chunks: LowChunk[]; errors: string[] } {
  const high = clone(input) as Dict;
  const errors: string[] = [];
  reconcileExtend(high, errors);
  errors.push(...verifyHigh(high));
  if (errors.length) return { chunks: [], errors };
  applyExclude(high);
  return { chunks: compileHighData(high) as unknown as LowChunk[], errors: [] };
}
