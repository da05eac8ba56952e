/**
 * `haproxy.*`: haproxy's runtime API (the `stats socket` of haproxy.cfg), with the function names,
 * argument order and return shapes of Salt's `haproxyconn` module:
 *
 * - `list_servers(backend, socket, objectify=False)`: one line per server,
 *   `Name: s1 Status: UP Weight: 1 bIn: 0 bOut: 0`, joined by newlines (a list of those lines
 *   with `objectify=True`).
 * - `show_backends(socket)`: the backend names, one per line.
 * - `disable_server(name, backend, socket)` / `enable_server(...)`: `{backend: list_servers text}`
 *   after the change; `backend="*"` acts on every backend that has the server.
 * - `get_weight(name, backend, socket)`: haproxy's answer, e.g. `1 (initial 1)`.
 * - `set_weight(name, backend, weight=0, socket)`: sets it, then answers as get_weight (Salt's
 *   own set_weight only reads the weight: a bug not copied here). `weight` is 0..256 or `N%`.
 * - `set_state(name, backend, state, socket)`: state `ready|drain|maint`; returns haproxy's
 *   answer as Salt does, which is the empty string on success.
 *
 * Differences from Salt, on purpose: everything haproxy answers with text where it answers
 * nothing on success (`No such server.`, `No such backend.`, `Permission denied.`...) is a thrown
 * error (a failed return), and so is an unknown backend in list_servers (Salt returns "").
 * Names are checked against haproxy's name characters so that nothing can be added to the
 * command line (haproxy takes `;` as a command separator).
 */
import { connect } from "node:net";
import { stat } from "node:fs/promises";
import { ExecutionError, ModuleArgumentError } from "../../core/errors.js";
import { define, type Bound } from "./args.js";
import type { ModuleContext, ModuleFunctions } from "./types.js";

/** Salt's default socket. */
export const DEFAULT_SOCKET = "/var/run/haproxy.sock";

const STATES = ["ready", "drain", "maint"] as const;
const NAME = /^[A-Za-z0-9_.:-]+$/;

/** The `haproxy` module. */
export const haproxyModule: ModuleFunctions = {
  list_servers: define(
    "haproxy.list_servers",
    { params: ["backend", "socket", "objectify"], defaults: { socket: DEFAULT_SOCKET, objectify: false } },
    async (a, ctx) => {
      const lines = await serverLines(a, name(a, "backend"), ctx);
      return a.bool("objectify") ? lines : lines.join("\n");
    },
  ),
  show_backends: define(
    "haproxy.show_backends",
    { params: ["socket"], defaults: { socket: DEFAULT_SOCKET } },
    async (a, ctx) => (await backends(a, ctx)).join("\n"),
  ),
  disable_server: define(
    "haproxy.disable_server",
    { params: ["name", "backend", "socket"], defaults: { socket: DEFAULT_SOCKET } },
    (a, ctx) => toggle(a, "disable", ctx),
  ),
  enable_server: define(
    "haproxy.enable_server",
    { params: ["name", "backend", "socket"], defaults: { socket: DEFAULT_SOCKET } },
    (a, ctx) => toggle(a, "enable", ctx),
  ),
  get_weight: define(
    "haproxy.get_weight",
    { params: ["name", "backend", "socket"], defaults: { socket: DEFAULT_SOCKET } },
    (a, ctx) => getWeight(a, ctx),
  ),
  set_weight: define(
    "haproxy.set_weight",
    { params: ["name", "backend", "weight", "socket"], defaults: { weight: 0, socket: DEFAULT_SOCKET } },
    async (a, ctx) => {
      const target = `${name(a, "backend")}/${name(a, "name")}`;
      await action(a, `set weight ${target} ${weight(a)}`, ctx);
      return getWeight(a, ctx);
    },
  ),
  set_state: define(
    "haproxy.set_state",
    { params: ["name", "backend", "state", "socket"], defaults: { socket: DEFAULT_SOCKET } },
    async (a, ctx) => {
      const state = a.str("state");
      if (!(STATES as readonly string[]).includes(state)) {
        throw new ModuleArgumentError(
          a.fun,
          `argument 'state' must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`,
        );
      }
      await action(a, `set server ${name(a, "backend")}/${name(a, "name")} state ${state}`, ctx);
      return "";
    },
  ),
};

/** enable/disable server on one backend or, with "*", on every backend that has it. */
async function toggle(
  a: Bound,
  verb: "enable" | "disable",
  ctx: ModuleContext,
): Promise<Record<string, string>> {
  const server = name(a, "name");
  const all = a.str("backend") === "*";
  const targets = all ? await backends(a, ctx) : [name(a, "backend")];
  const results: Record<string, string> = {};
  let found = 0;
  for (const backend of targets) {
    const answer = await send(a, `${verb} server ${backend}/${server}`, ctx);
    if (all && answer === "No such server.") continue;
    if (answer !== "") throw haproxyError(a, answer, `${verb} server ${backend}/${server}`);
    found++;
  }
  if (all && found === 0) throw haproxyError(a, "No such server.", `${verb} server */${server}`);
  for (const backend of targets) results[backend] = (await serverLines(a, backend, ctx)).join("\n");
  return results;
}

async function getWeight(a: Bound, ctx: ModuleContext): Promise<string> {
  const command = `get weight ${name(a, "backend")}/${name(a, "name")}`;
  const answer = await send(a, command, ctx);
  if (!/^\d+ \(initial \d+\)$/.test(answer)) throw haproxyError(a, answer, command);
  return answer;
}

/** A command that answers nothing when it worked. */
async function action(a: Bound, command: string, ctx: ModuleContext): Promise<void> {
  const answer = await send(a, command, ctx);
  if (answer !== "") throw haproxyError(a, answer, command);
}

/** `show stat` as rows of named columns. */
async function stats(a: Bound, ctx: ModuleContext): Promise<Record<string, string>[]> {
  const answer = await send(a, "show stat", ctx);
  const [header, ...rows] = answer.split("\n");
  if (header === undefined || !header.startsWith("# ")) throw haproxyError(a, answer, "show stat");
  const cols = header.slice(2).split(",");
  return rows
    .filter((r) => r !== "")
    .map((r) => {
      const cells = r.split(",");
      return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ""]));
    });
}

async function backends(a: Bound, ctx: ModuleContext): Promise<string[]> {
  return (await stats(a, ctx)).filter((r) => r.svname === "BACKEND").map((r) => r.pxname ?? "");
}

/** haproxyctl's server lines for one backend; an unknown backend is an error. */
async function serverLines(a: Bound, backend: string, ctx: ModuleContext): Promise<string[]> {
  const rows = (await stats(a, ctx)).filter((r) => r.pxname === backend);
  if (!rows.some((r) => r.svname === "BACKEND"))
    throw haproxyError(a, "No such backend.", `show stat ${backend}`);
  return rows
    .filter((r) => r.svname !== "BACKEND" && r.svname !== "FRONTEND")
    .map((r) => `Name: ${r.svname} Status: ${r.status} Weight: ${r.weight} bIn: ${r.bin} bOut: ${r.bout}`);
}

function haproxyError(a: Bound, answer: string, command: string): ExecutionError {
  return new ExecutionError(`${a.fun}: ${answer || "empty answer"} (${command})`);
}

function name(a: Bound, arg: string): string {
  const v = a.str(arg);
  if (!NAME.test(v)) {
    throw new ModuleArgumentError(
      a.fun,
      `argument '${arg}' must be a haproxy name (letters, digits, '-', '_', '.', ':'), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function weight(a: Bound): string {
  const v = a.raw("weight");
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : "";
  if (!/^\d+%?$/.test(s)) {
    throw new ModuleArgumentError(
      a.fun,
      `argument 'weight' must be a number from 0 to 256 or a percentage, got ${JSON.stringify(v) ?? String(v)}`,
    );
  }
  return s;
}

/**
 * Sends one command to the socket and reads until haproxy closes it (the non-interactive CLI
 * answers one command per connection). Returns the answer without its trailing newlines.
 */
async function send(a: Bound, command: string, ctx: ModuleContext): Promise<string> {
  const path = a.str("socket");
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") throw new ExecutionError(`${a.fun}: ${path} does not exist.`);
    throw new ExecutionError(`${a.fun}: ${path}: ${err.message}`, { cause: err });
  });
  if (!st.isSocket()) throw new ExecutionError(`${a.fun}: ${path} is not a socket.`);
  ctx.logger.debug({ fun: a.fun, socket: path, command }, "haproxy command");
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(path);
    const onAbort = () => sock.destroy(new ExecutionError(`${a.fun}: aborted (${command})`));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", (err) =>
      reject(
        err instanceof ExecutionError
          ? err
          : new ExecutionError(`${a.fun}: ${path}: ${err.message}`, { cause: err }),
      ),
    );
    sock.on("close", (hadError) => {
      ctx.signal.removeEventListener("abort", onAbort);
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8").replace(/\n+$/, ""));
    });
    sock.write(`${command}\n`);
  });
}
