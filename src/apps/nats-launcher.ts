/**
 * Starts a local nats-server (found on PATH) with JetStream, on a loopback port, with a store in a
 * directory of ours: for `reactor up` and the test harness. Fails fast with the server's own output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

/** How to start the server. */
export interface LaunchOptions {
  /** Client port; -1 (default) lets the server pick a free one. */
  port?: number;
  /** Directory of the JetStream store. */
  storeDir: string;
  /** Extra lines of server configuration. */
  config?: string;
  /** A file the server's config includes (absolute; nats-server resolves includes against its config's folder). */
  include?: string;
  /** The binary. Default: NATS_SERVER_BIN, else `nats-server` on PATH. */
  bin?: string;
  /** Give up after this long (ms). Default 15 s. */
  timeoutMs?: number;
}

/** A running server. */
export interface LaunchedServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** The message a user sees when nats-server is missing. */
export const NATS_SERVER_MISSING =
  "nats-server not found on PATH. Install it: `sudo apt-get install nats-server` (Debian/Ubuntu), " +
  "or download it from the NATS project's releases; or point at a running server with --nats URL (or NATS_SERVER_BIN).";

/** Launches nats-server and waits until it wrote its ports file. */
export async function launchNatsServer(opts: LaunchOptions): Promise<LaunchedServer> {
  const portsDir = await mkdtemp(join(tmpdir(), "nr-ports-"));
  const confPath = join(portsDir, "server.conf");
  const lines = [
    `listen: "127.0.0.1:${opts.port ?? -1}"`,
    `ports_file_dir: "${portsDir}"`,
    `jetstream { store_dir: "${join(opts.storeDir, "js")}", max_memory_store: 256MB, max_file_store: 4GB }`,
    `max_payload: 8MB`,
  ];
  if (opts.config) lines.push(opts.config);
  if (opts.include) lines.push(`include ${JSON.stringify(relative(dirname(confPath), opts.include))}`);
  await writeFile(confPath, lines.join("\n") + "\n");
  let output = "";
  const child = spawn(opts.bin ?? process.env.NATS_SERVER_BIN ?? "nats-server", ["-c", confPath], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  child.stderr?.on("data", (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "ENOENT" ? new Error(NATS_SERVER_MISSING) : err));
    child.once("exit", (code, signal) => reject(new Error(`nats-server exited during start (code ${code}, signal ${signal}):\n${output}`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let port: number | undefined;
  while (port === undefined) {
    port = await Promise.race([readPorts(portsDir, child.pid), exited]);
    if (port !== undefined) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not start within ${opts.timeoutMs ?? 15_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.removeAllListeners("exit");
  let stopping: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    stop(signal = "SIGTERM", graceMs = 5000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const done = new Promise<void>((r) => child.once("exit", () => r()));
          child.kill(signal);
          const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
          await done;
          clearTimeout(timer);
        }
        await rm(portsDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function readPorts(dir: string, pid: number | undefined): Promise<number | undefined> {
  try {
    const files = await readdir(dir);
    const file = files.find((f) => f === `nats-server_${pid}.ports`);
    if (!file) return undefined;
    const ports = JSON.parse(await readFile(join(dir, file), "utf8")) as { nats?: string[] };
    const m = /:(\d+)$/.exec(ports.nats?.[0] ?? "");
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
