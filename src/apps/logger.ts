/**
 * Loggers: pino JSON lines, pretty when stdout is a terminal. The only module that imports pino;
 * components get child loggers (`log.child({ component: "dispatch" })`) through the Logger port.
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

/** Creates the root logger of a process. Logs go to stderr so stdout stays for command output. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.REACTOR_LOG_LEVEL ?? "info";
  const usePretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const base = { pid: process.pid, ...opts.base };
  const dest = usePretty
    ? pretty({ destination: 2, colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" })
    : (opts.destination ?? pino.destination({ fd: 2, sync: false }));
  const root: PinoLogger = pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return root as unknown as Logger;
}
