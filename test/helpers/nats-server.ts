/**
 * Test harness: real nats-server processes on random loopback ports with temp stores.
 *
 * - `startNatsServer()` runs `nats-server -js -a 127.0.0.1 -p -1` with a temp store and reads the
 *   ports file; fails fast (with the server's own output) if the binary is missing or it exits.
 * - `startCluster()` runs three servers forming a JetStream cluster on loopback.
 * - With `NATS_URL` set, `natsForTests()` uses that server instead of starting one.
 * Stop a server by PID with `stop()`; `restart()` brings it back on the same ports and store.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface NatsServer {
  /** Client URL, `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); removes the store unless `keepStore`. */
  stop(opts?: { keepStore?: boolean }): Promise<void>;
  /** Kills the server with SIGKILL (a crash), keeping its store. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store. */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Extra lines of server config (e.g. authorization blocks). */
  config?: string;
  /** Fixed client port (else random). */
  port?: number;
  /** Cluster settings, used by startCluster. */
  cluster?: { name: string; serverName: string; port: number; routes: number[] };
  storeDir?: string;
  /** The binary (default: NATS_SERVER_BIN, else `nats-server` on PATH). */
  bin?: string;
}

const START_TIMEOUT_MS = 15_000;

/** A free loopback TCP port (the OS picks; closed before return). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts one JetStream-enabled nats-server on loopback. */
export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServer> {
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), "nr-nats-")));
  const portsDir = await mkdtemp(join(tmpdir(), "nr-ports-"));
  let port = opts.port ?? -1;
  let proc: ChildProcess | undefined;
  const confPath = join(portsDir, "server.conf");

  const writeConf = async () => {
    const lines = [
      `listen: "127.0.0.1:${port}"`,
      `ports_file_dir: "${portsDir}"`,
      `jetstream { store_dir: "${join(storeDir, "js")}", max_memory_store: 256MB, max_file_store: 4GB }`,
      `max_payload: 8MB`,
    ];
    if (opts.cluster) {
      const c = opts.cluster;
      lines.push(
        `server_name: "${c.serverName}"`,
        `cluster { name: "${c.name}", listen: "127.0.0.1:${c.port}", routes: [${c.routes
          .map((p) => `"nats-route://127.0.0.1:${p}"`)
          .join(", ")}] }`,
      );
    }
    if (opts.config) lines.push(opts.config);
    await writeFile(confPath, lines.join("\n") + "\n");
  };

  const launch = async (): Promise<void> => {
    await writeConf();
    for (const f of await readdir(portsDir)) if (f.endsWith(".ports")) await rm(join(portsDir, f), { force: true });
    let output = "";
    const child = spawn(opts.bin ?? process.env.NATS_SERVER_BIN ?? "nats-server", ["-c", confPath], { stdio: ["ignore", "pipe", "pipe"] });
    proc = child;
    child.stdout?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
    child.stderr?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
    const exited = new Promise<never>((_, reject) => {
      child.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          err.code === "ENOENT"
            ? new Error(`nats-server not found on PATH (set NATS_SERVER_BIN, or: sudo apt-get install nats-server)`)
            : err,
        );
      });
      child.once("exit", (code, signal) =>
        reject(new Error(`nats-server exited during start (code ${code}, signal ${signal}):\n${output}`)),
      );
    });
    exited.catch(() => undefined);
    const deadline = Date.now() + START_TIMEOUT_MS;
    const file = `nats-server_${child.pid}.ports`;
    for (;;) {
      const ready = await Promise.race([readPorts(join(portsDir, file)), exited]);
      if (ready) {
        port = ready;
        break;
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`nats-server did not write its ports file within ${START_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    child.removeAllListeners("exit");
  };

  const waitExit = async (signal: NodeJS.Signals, graceMs: number) => {
    const child = proc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await done;
    clearTimeout(timer);
  };

  await launch();
  let stopping: Promise<void> | undefined;
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return proc?.pid;
    },
    stop(o = {}) {
      stopping ??= (async () => {
        await waitExit("SIGTERM", 5000);
        await rm(portsDir, { recursive: true, force: true });
        if (!o.keepStore) await rm(storeDir, { recursive: true, force: true });
      })();
      return stopping;
    },
    kill: () => waitExit("SIGKILL", 0),
    async restart() {
      await waitExit("SIGTERM", 5000);
      await launch();
    },
  };
}

async function readPorts(path: string): Promise<number | undefined> {
  try {
    const ports = JSON.parse(await readFile(path, "utf8")) as { nats?: string[] };
    const url = ports.nats?.[0];
    const m = url ? /:(\d+)$/.exec(url) : null;
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Three nats-servers forming a JetStream cluster on loopback. */
export async function startCluster(name = "nr-test"): Promise<{ servers: NatsServer[]; urls: string[]; stop(): Promise<void> }> {
  const clientPorts = await Promise.all([freePort(), freePort(), freePort()]);
  const routePorts = await Promise.all([freePort(), freePort(), freePort()]);
  const servers = await Promise.all(
    clientPorts.map((port, i) =>
      startNatsServer({
        port,
        cluster: { name, serverName: `${name}-${i}`, port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i) },
      }),
    ),
  );
  return {
    servers,
    urls: servers.map((s) => s.url),
    stop: async () => {
      await Promise.allSettled(servers.map((s) => s.stop()));
    },
  };
}

/**
 * The NATS server of a test file: the one in `NATS_URL` if set (never stopped by us),
 * else a fresh server of our own.
 */
export async function natsForTests(): Promise<{ url: string; server?: NatsServer; stop(): Promise<void> }> {
  const external = process.env.NATS_URL;
  if (external) return { url: external, stop: async () => undefined };
  const server = await startNatsServer();
  return { url: server.url, server, stop: () => server.stop() };
}

/** Unique name for a stream, bucket or durable in one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
