/**
 * Test harness: real nats-server processes on random loopback ports with temp stores.
 *
 * - `startNatsServer()` runs `nats-server -js -a 127.0.0.1 -p -1` with a temp store and reads the
 *   ports file; fails fast (with the server's own output) if the binary is missing or it exits.
 * - `startCluster()` runs three servers forming a JetStream cluster on loopback.
 * - With `NATS_URL` set, `natsForTests()` uses that server instead of starting one.
 * Stop a server by PID with `stop()`; `restart()` brings it back on the same ports and store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageType } from "@nats-io/jetstream";
import { launchNatsServer } from "../../src/apps/nats-launcher.js";
import { openConnection } from "../../src/bus/index.js";
import { waitFor } from "./wait.js";

// The plain servers of this harness admit any client. `reactor serve` refuses such a server unless
// told so on purpose; tests that are not about NATS auth say so once here (inherited by the CLI and
// service processes the tests spawn). The secure deployment's tests use test/helpers/secure-stack.ts.
process.env.REACTOR_INSECURE_NATS ??= "1";

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

/** Starts one JetStream-enabled nats-server on loopback (src/apps/nats-launcher does the work). */
export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServer> {
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), "nr-nats-")));
  let port = opts.port ?? -1;
  const clusterConf = () => {
    const c = opts.cluster;
    if (!c) return "";
    const routes = c.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    return `server_name: "${c.serverName}"\ncluster { name: "${c.name}", listen: "127.0.0.1:${c.port}", routes: [${routes}] }`;
  };
  const launch = () =>
    launchNatsServer({ port, storeDir, config: [clusterConf(), opts.config ?? ""].join("\n"), ...(opts.bin ? { bin: opts.bin } : {}) });
  let server = await launch();
  port = server.port;
  let stopping: Promise<void> | undefined;
  return {
    get url() {
      return server.url;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return server.process.pid;
    },
    stop(o = {}) {
      stopping ??= (async () => {
        await server.stop();
        if (!o.keepStore) await rm(storeDir, { recursive: true, force: true });
      })();
      return stopping;
    },
    kill: () => server.stop("SIGKILL", 0),
    async restart() {
      await server.stop();
      server = await launch();
    },
  };
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
  const urls = servers.map((s) => s.url);
  const stop = async () => void (await Promise.allSettled(servers.map((s) => s.stop())));
  try {
    await jetStreamPlacesR3(urls);
  } catch (err) {
    await stop();
    throw err;
  }
  return { servers, urls, stop };
}

/**
 * Resolves once the cluster's JetStream can place a stream on all three servers: the meta group
 * needs a leader and every peer first, and a test that starts before that fails with "no suitable
 * peers for placement" (seen on a loaded machine).
 */
async function jetStreamPlacesR3(urls: string[]): Promise<void> {
  const conn = await openConnection({ servers: urls, timeoutMs: 10_000, jetStreamWaitMs: 30_000 });
  try {
    await waitFor(
      async () => {
        const name = `READY_${process.pid}`;
        await conn.jsm.streams.add({ name, subjects: [`ready.${process.pid}`], num_replicas: 3, storage: StorageType.Memory });
        await conn.jsm.streams.delete(name);
        return true;
      },
      { what: "the cluster's JetStream to place a stream on three servers", timeoutMs: 30_000, intervalMs: 250 },
    );
  } finally {
    await conn.close();
  }
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
