/**
 * Loggers: pino JSON lines, or lines for people when stderr is a terminal. The only module that
 * imports pino; components get child loggers (`log.child({ component: "dispatch" })`) through the
 * Logger port.
 *
 * pino writes a child's bindings after its parent's, so `child({component})` under a logger that
 * already has a `component` (and a log object with a key the bindings have, such as `pid`) would
 * print the key twice. Here bindings are merged instead: a nested component reads
 * `service/keys`, any other key of a child replaces its parent's, and a key of the log call
 * replaces a binding of the same name. Every line has each key once.
 */
import { pino, type Logger as PinoLogger } from "pino";
import pretty from "pino-pretty";
import type { Logger } from "../core/index.js";

/** Logger settings. */
export interface LoggerOptions {
  /** Level: trace, debug, info (default), warn, error, fatal, silent. */
  level?: string;
  /** Pretty output; default: when stderr is a terminal. */
  pretty?: boolean;
  /** Bindings of the root logger, e.g. `{ app: "reactor" }`. */
  base?: Record<string, unknown>;
  /** Write JSON lines here instead of stderr (tests). */
  destination?: NodeJS.WritableStream;
}

type Level = "debug" | "info" | "warn" | "error";
type Bindings = Readonly<Record<string, unknown>>;

/** Creates the root logger of a process. Logs go to stderr so stdout stays for command output. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.REACTOR_LOG_LEVEL ?? "info";
  const usePretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const dest = usePretty
    ? pretty({
        destination: 2,
        colorize: true,
        translateTime: "HH:MM:ss.l",
        singleLine: true,
        // `[service/keys] auth attempt {"id":"demo1"}`: who speaks first, then what.
        messageFormat: "{if component}[{component}] {end}{msg}",
        ignore: "pid,hostname,app,component",
      })
    : (opts.destination ?? pino.destination({ fd: 2, sync: false }));
  // No pino base: the process bindings (pid, app) are ours, merged like every other binding.
  const root: PinoLogger = pino({ level, base: null, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return new MergedLogger(root, { pid: process.pid, ...opts.base });
}

/** Merges `next` into `bindings`: a nested `component` becomes `parent/child`, other keys replace. */
export function mergeBindings(bindings: Bindings, next: Bindings): Record<string, unknown> {
  const out: Record<string, unknown> = { ...bindings, ...next };
  const parent = bindings["component"];
  const child = next["component"];
  if (typeof parent === "string" && typeof child === "string" && parent !== child && !parent.endsWith(`/${child}`)) {
    out["component"] = `${parent}/${child}`;
  } else if (typeof parent === "string" && typeof child === "string") out["component"] = parent;
  return out;
}

class MergedLogger implements Logger {
  private readonly bound: PinoLogger;

  constructor(
    private readonly root: PinoLogger,
    private readonly bindings: Bindings,
  ) {
    this.bound = root.child(bindings);
  }

  debug(obj: object, msg?: string): void {
    this.write("debug", obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.write("info", obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.write("warn", obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.write("error", obj, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new MergedLogger(this.root, mergeBindings(this.bindings, bindings));
  }

  private write(level: Level, obj: object, msg: string | undefined): void {
    if (!this.root.isLevelEnabled(level)) return;
    // The common case writes through the bound child (bindings serialized once); a log object that
    // repeats a bound key is merged into one object first, its value winning.
    const clash = Object.keys(obj).some((k) => k in this.bindings);
    if (clash) this.root[level]({ ...this.bindings, ...obj }, msg);
    else this.bound[level](obj, msg);
  }
}
