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
 * Ours, not in Salt's haproxyconn (haproxy's dynamic servers; the backend needs a dynamic
 * balance algorithm such as roundrobin, and a server added at run time is lost on reload):
 *
 * - `add_server(name, backend, addr, socket)`: `addr` is `IPv4:port`, `hostname:port` or
 *   `[IPv6]:port`. An absent server is added (`add server`) and left in maintenance, as haproxy
 *   adds it: enable_server it once it is healthy. A server at another address is moved there
 *   (`set server ... addr`, its state kept); at the same address nothing is done. haproxy does not
 *   resolve the names of servers added at run time, so the agent resolves a hostname and gives
 *   haproxy the system resolver's first address. Returns `{backend, server, addr, changed,
 *   action: "added"|"updated"|"unchanged", servers}`: `addr` as haproxy now has it
 *   (`10.0.0.5:80`, `[::1]:80`), `servers` the list_servers text of the backend afterwards.
 * - `del_server(name, backend, socket, drain=10)`: `disable server`, up to `drain` seconds for the
 *   requests in flight to end (haproxy's `scur`), `shutdown sessions server` for any left, then
 *   `del server`, retried for up to 5 s while haproxy says connections remain (then it fails with
 *   haproxy's message, the server left in maintenance). Returns `{backend, server, changed,
 *   action: "deleted"|"absent", servers}`; an absent server is not an error.
 *
 * `socket` defaults to agent.yaml's `haproxy.socket`, else Salt's `/var/run/haproxy.sock`.
 *
 * Differences from Salt, on purpose: everything haproxy answers with text where it answers
 * nothing on success (`No such server.`, `No such backend.`, `Permission denied.`...) is a thrown
 * error (a failed return), and so is an unknown backend in list_servers (Salt returns "").
 * Names are checked against haproxy's name characters so that nothing can be added to the
 * command line (haproxy takes `;` as a command separator).
 */
import { connect, isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { stat } from "node:fs/promises";
import { ExecutionError, ModuleArgumentError } from "../../core/errors.js";
import { define, type Bound } from "./args.js";
import { sleep } from "./test.js";
import type { ModuleContext, ModuleFunction, ModuleFunctions } from "./types.js";

/** Salt's default socket. */
export const DEFAULT_SOCKET = "/var/run/haproxy.sock";

const STATES = ["ready", "drain", "maint"] as const;
const NAME = /^[A-Za-z0-9_.:-]+$/;
/** `host:port` with an IPv4 address or a hostname, or `[IPv6]:port`. */
const ADDR = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([1-9][0-9]{0,4})$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** How long del_server retries while haproxy says connections remain, and how often. */
const DEL_TIMEOUT_MS = 5_000;
const DEL_RETRY_MS = 100;
const STILL_CONNECTED = "Server still has connections attached to it, cannot remove it.";

/** `define` for this module: every function takes `socket`, optional, resolved by socketPath. */
function fn(
  fun: string,
  params: readonly string[],
  impl: (a: Bound, ctx: ModuleContext) => Promise<unknown>,
  defaults: Readonly<Record<string, unknown>> = {},
): ModuleFunction {
  return define(`haproxy.${fun}`, { params, defaults: { ...defaults, socket: null } }, impl);
}

/** The `haproxy` module. */
export const haproxyModule: ModuleFunctions = {
  list_servers: fn(
    "list_servers",
    ["backend", "socket", "objectify"],
    async (a, ctx) => {
      const lines = await serverLines(a, name(a, "backend"), ctx);
      return a.bool("objectify") ? lines : lines.join("\n");
    },
    { objectify: false },
  ),
  show_backends: fn("show_backends", ["socket"], async (a, ctx) => (await backends(a, ctx)).join("\n")),
  disable_server: fn("disable_server", ["name", "backend", "socket"], (a, ctx) => toggle(a, "disable", ctx)),
  enable_server: fn("enable_server", ["name", "backend", "socket"], (a, ctx) => toggle(a, "enable", ctx)),
  get_weight: fn("get_weight", ["name", "backend", "socket"], (a, ctx) => getWeight(a, ctx)),
  set_weight: fn(
    "set_weight",
    ["name", "backend", "weight", "socket"],
    async (a, ctx) => {
      const target = `${name(a, "backend")}/${name(a, "name")}`;
      await action(a, `set weight ${target} ${weight(a)}`, ctx);
      return getWeight(a, ctx);
    },
    { weight: 0 },
  ),
  set_state: fn("set_state", ["name", "backend", "state", "socket"], async (a, ctx) => {
    const state = a.str("state");
    if (!(STATES as readonly string[]).includes(state)) {
      throw new ModuleArgumentError(
        a.fun,
        `argument 'state' must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`,
      );
    }
    await action(a, `set server ${name(a, "backend")}/${name(a, "name")} state ${state}`, ctx);
    return "";
  }),
  add_server: fn("add_server", ["name", "backend", "addr", "socket"], (a, ctx) => addServer(a, ctx)),
  del_server: fn("del_server", ["name", "backend", "socket", "drain"], (a, ctx) => delServer(a, ctx), { drain: 10 }),
};

type ServerResult = { backend: string; server: string; changed: boolean; servers: string };

/** add_server: add, move or leave alone; see the module comment. */
async function addServer(
  a: Bound,
  ctx: ModuleContext,
): Promise<ServerResult & { addr: string; action: "added" | "updated" | "unchanged" }> {
  const server = name(a, "name");
  const backend = name(a, "backend");
  const want = await address(a);
  const current = (await serverStates(a, backend, ctx)).get(server);
  let act: "added" | "updated" | "unchanged";
  if (current === undefined) {
    const command = `add server ${backend}/${server} ${hostPort(want.host, want.port)}`;
    const answer = await send(a, command, ctx);
    if (answer !== "New server registered.") throw haproxyError(a, answer, command);
    act = "added";
  } else if (normalIp(current.host) === want.host && current.port === want.port) {
    act = "unchanged";
  } else {
    const command = `set server ${backend}/${server} addr ${want.host} port ${want.port}`;
    const answer = await send(a, command, ctx);
    if (!/^(IP changed from|no need to change the addr)/.test(answer)) throw haproxyError(a, answer, command);
    act = "updated";
  }
  const servers = (await serverLines(a, backend, ctx)).join("\n");
  const addr = hostPort(want.host, want.port);
  return { backend, server, addr, changed: act !== "unchanged", action: act, servers };
}

/** del_server: maintenance, sessions shut down, then deleted; retried while connections remain. */
async function delServer(
  a: Bound,
  ctx: ModuleContext,
): Promise<ServerResult & { action: "deleted" | "absent" }> {
  const server = name(a, "name");
  const backend = name(a, "backend");
  const present = (await serverStates(a, backend, ctx)).has(server);
  if (present) {
    const target = `${backend}/${server}`;
    await action(a, `disable server ${target}`, ctx);
    await drained(a, backend, server, ctx);
    await action(a, `shutdown sessions server ${target}`, ctx);
    await deleteWithRetry(a, `del server ${target}`, ctx);
  }
  const servers = (await serverLines(a, backend, ctx)).join("\n");
  return { backend, server, changed: present, action: present ? "deleted" : "absent", servers };
}

/** Waits up to `drain` seconds for the requests in flight on a disabled server to end. */
async function drained(a: Bound, backend: string, server: string, ctx: ModuleContext): Promise<void> {
  const limit = a.raw("drain");
  if (typeof limit !== "number" || !Number.isFinite(limit) || limit < 0)
    throw new ModuleArgumentError(a.fun, `argument 'drain' must be a number of seconds >= 0, got ${JSON.stringify(limit)}`);
  const deadline = Date.now() + limit * 1000;
  for (;;) {
    const row = (await stats(a, ctx)).find((r) => r.pxname === backend && r.svname === server);
    if (!row || Number(row.scur ?? 0) === 0 || Date.now() >= deadline) return;
    await pause(a, ctx, `while draining ${backend}/${server}`);
  }
}

/** `del server`, again every DEL_RETRY_MS for DEL_TIMEOUT_MS while haproxy says connections remain. */
async function deleteWithRetry(a: Bound, command: string, ctx: ModuleContext): Promise<void> {
  const deadline = Date.now() + DEL_TIMEOUT_MS;
  for (;;) {
    const answer = await send(a, command, ctx);
    if (answer === "Server deleted.") return;
    if (answer !== STILL_CONNECTED) throw haproxyError(a, answer, command);
    if (Date.now() >= deadline) {
      throw haproxyError(a, answer, `${command}, tried for ${DEL_TIMEOUT_MS / 1000} s`);
    }
    await pause(a, ctx, `(${command})`);
  }
}

/** DEL_RETRY_MS before the next look; the job's abort ends it with an error saying what it waited for. */
async function pause(a: Bound, ctx: ModuleContext, what: string): Promise<void> {
  await sleep(DEL_RETRY_MS, ctx.signal).catch(() => {
    throw new ExecutionError(`${a.fun}: aborted ${what}`);
  });
}

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

/** The servers of `backend` by name with their address, from `show servers state`. */
async function serverStates(
  a: Bound,
  backend: string,
  ctx: ModuleContext,
): Promise<Map<string, { host: string; port: number }>> {
  const command = `show servers state ${backend}`;
  const answer = await send(a, command, ctx);
  if (answer === "Can't find backend.") throw haproxyError(a, "No such backend.", command);
  const [version, header, ...rows] = answer.split("\n");
  if (version !== "1" || header === undefined || !header.startsWith("# "))
    throw haproxyError(a, answer, command);
  const cols = header.slice(2).split(" ");
  const col = (cells: string[], c: string) => cells[cols.indexOf(c)] ?? "";
  const servers = new Map<string, { host: string; port: number }>();
  for (const row of rows.filter((r) => r !== "")) {
    const cells = row.split(" ");
    servers.set(col(cells, "srv_name"), {
      host: col(cells, "srv_addr"),
      port: Number(col(cells, "srv_port")),
    });
  }
  return servers;
}

/** The `addr` argument as an IP address (a hostname resolved) and a port. */
async function address(a: Bound): Promise<{ host: string; port: number }> {
  const v = a.str("addr");
  const m = ADDR.exec(v);
  const [, v6, host, portText] = m ?? [];
  const port = Number(portText);
  const valid =
    m !== null &&
    port <= 65535 &&
    (v6 !== undefined ? isIP(v6) === 6 : isIP(host!) === 4 || isHostname(host!));
  if (!valid) {
    throw new ModuleArgumentError(
      a.fun,
      `argument 'addr' must be host:port (an IPv4 address or a hostname, or [IPv6]), port 1-65535, got ${JSON.stringify(v)}`,
    );
  }
  if (v6 !== undefined) return { host: normalIp(v6), port };
  if (isIP(host!) === 4) return { host: host!, port };
  const found = await lookup(host!).catch((err: NodeJS.ErrnoException) => {
    throw new ExecutionError(`${a.fun}: cannot resolve ${host}: ${err.code ?? err.message}`, { cause: err });
  });
  return { host: normalIp(found.address), port };
}

/** RFC 1123 names; a numeric last label (`1.2.3`) is not a name but a malformed address. */
function isHostname(host: string): boolean {
  const labels = host.split(".");
  return host.length <= 253 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!);
}

/** One spelling per address (IPv6 compressed and lower-cased) so that addresses compare. */
function normalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The socket: the argument, else agent.yaml's `haproxy.socket`, else Salt's default. */
function socketPath(a: Bound, ctx: ModuleContext): string {
  return a.optStr("socket") ?? ctx.config.haproxy.socket ?? DEFAULT_SOCKET;
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
  const path = socketPath(a, ctx);
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
