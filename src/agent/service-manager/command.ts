/**
 * The `command` service manager: per-service argv commands from agent.yaml. `check` exit 0 means
 * running; `start` runs detached (own session, stdio ignored) and the manager then polls `check`.
 */
import { spawn } from "node:child_process";
import type { ServiceCommands } from "../../config/index.js";
import { ServiceError, errorMessage } from "../../core/errors.js";
import type { ServiceManager } from "../../core/ports.js";
import { runProcess } from "../process.js";

/** Options of the command service manager. */
export interface CommandServiceManagerOptions {
  readonly services: Readonly<Record<string, ServiceCommands>>;
  /** How long start/stop poll `check` for the new state. Default 5000 ms. */
  readonly settleMs?: number;
  /** Poll interval. Default 100 ms. */
  readonly pollMs?: number;
  /** Limit of one check/stop/reload command. Default 30000 ms. */
  readonly commandTimeoutMs?: number;
}

/** Creates the `command` service manager. */
export function createCommandServiceManager(opts: CommandServiceManagerOptions): ServiceManager {
  const settleMs = opts.settleMs ?? 5000;
  const pollMs = opts.pollMs ?? 100;
  const timeoutMs = opts.commandTimeoutMs ?? 30_000;

  const spec = (name: string): ServiceCommands => {
    const s = Object.hasOwn(opts.services, name) ? opts.services[name] : undefined;
    if (s) return s;
    const known = Object.keys(opts.services);
    throw new ServiceError(
      name,
      `not configured in the agent's services (configured: ${known.length ? known.join(", ") : "none"})`,
    );
  };
  const run = async (name: string, what: string, argv: readonly string[]): Promise<number> => {
    try {
      return (await runProcess(argv, { timeoutMs })).retcode;
    } catch (err) {
      throw new ServiceError(name, `${what} command failed: ${errorMessage(err)}`);
    }
  };
  const status = async (name: string): Promise<boolean> => (await run(name, "check", spec(name).check)) === 0;
  const settle = async (name: string, want: boolean, gaveUp: () => boolean): Promise<boolean> => {
    const deadline = Date.now() + settleMs;
    for (;;) {
      if ((await status(name)) === want) return true;
      if (gaveUp() || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  const launch = async (name: string, what: string, argv: readonly string[]): Promise<boolean> => {
    const exited = await spawnDetached(name, what, argv);
    return settle(name, true, () => exited.failed);
  };
  const stop = async (name: string): Promise<boolean> => {
    await run(name, "stop", spec(name).stop);
    return settle(name, false, () => false);
  };

  return {
    kind: "command",
    status,
    available: async (name) => Object.hasOwn(opts.services, name),
    start: async (name) => (await status(name)) || launch(name, "start", spec(name).start),
    stop,
    restart: async (name) => {
      const s = spec(name);
      if (s.restart) return launch(name, "restart", s.restart);
      await stop(name);
      return launch(name, "start", s.start);
    },
    reload: async (name) => {
      const argv = spec(name).reload;
      if (!argv) throw new ServiceError(name, "has no reload command in the agent's services");
      return (await run(name, "reload", argv)) === 0;
    },
  };
}

/** Starts argv detached; resolves once it spawned, with a flag set if it exits non-zero. */
function spawnDetached(name: string, what: string, argv: readonly string[]): Promise<{ failed: boolean }> {
  const [cmd, ...args] = argv;
  const state = { failed: false };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { detached: true, stdio: "ignore" });
    child.once("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "ENOENT" ? `command not found: ${cmd}` : errorMessage(err);
      reject(new ServiceError(name, `${what} command failed: ${why}`));
    });
    child.once("exit", (code) => void (state.failed = code !== 0));
    child.once("spawn", () => {
      child.unref();
      resolve(state);
    });
  });
}
