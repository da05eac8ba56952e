/** `test.*`: ping, echo, sleep, version, arg. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TimeoutError } from "../../core/errors.js";
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

/** The `test` module. */
export const testModule: ModuleFunctions = {
  ping: define("test.ping", { params: [] }, () => true),
  echo: define("test.echo", { params: ["text"] }, (a) => a.raw("text")),
  sleep: define("test.sleep", { params: ["length"] }, async (a, ctx) => {
    await sleep(a.num("length") * 1000, ctx.signal);
    return true;
  }),
  version: define("test.version", { params: [] }, () => agentVersion()),
  arg: define("test.arg", { params: [], varargs: true, varkw: true }, (a) => ({
    args: a.extraArgs,
    kwargs: a.extraKwargs,
  })),
};

/** Sleeps, ending early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new TimeoutError("sleep cancelled"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

let version: string | undefined;

/** The version of nats-reactor, from the nearest package.json named `nats-reactor`. */
export function agentVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "nats-reactor" && pkg.version) return (version = pkg.version);
    } catch {
      // not here; go up
    }
  }
  return (version = "unknown");
}
