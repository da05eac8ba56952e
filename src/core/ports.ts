/**
 * Ports: the interfaces through which features meet the bus and each other.
 * Features receive implementations of these as arguments; apps/ wires the real ones.
 */
import type { ReactorEvent } from "./event.js";

/** Publishes events. Resolves once the bus has stored the event (publish ack). */
export interface EventSink {
  emit(tag: string, data: Record<string, unknown>, opts?: { causationId?: string; depth?: number; id?: string }): Promise<ReactorEvent>;
}

/** Minimal structured logger (pino-compatible: object first, message second). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (for dry runs and tests). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** A service manager on a host (systemd, or per-service commands). */
export interface ServiceManager {
  /** Name of the backend: `systemd` or `command`. */
  readonly kind: string;
  status(name: string): Promise<boolean>;
  available(name: string): Promise<boolean>;
  start(name: string): Promise<boolean>;
  stop(name: string): Promise<boolean>;
  restart(name: string): Promise<boolean>;
  reload(name: string): Promise<boolean>;
}

/** `salt://` files of the state system and `cp.*` (Salt's `file_roots`; first root with the file wins). */
export interface FileClient {
  /**
   * A local path holding the file `url` (`salt://path`, or a path relative to the env's roots)
   * of `saltenv`, fetched or refreshed when its content changed. Throws FileServerError naming
   * the path and the environments searched when no root has it.
   */
  cache(url: string, saltenv: string): Promise<string>;
  /** The file's text (UTF-8), or `undefined` when it does not exist. */
  read(url: string, saltenv: string): Promise<string | undefined>;
  /** `{hash_type, hsum}` of the file (sha256), or `undefined` when it does not exist. */
  hash(url: string, saltenv: string): Promise<{ hash_type: "sha256"; hsum: string } | undefined>;
  /** Every file path (relative to the roots, `/`-separated, sorted) of `saltenv` (cp.list_master). */
  list(saltenv: string): Promise<string[]>;
  /** Every directory path of `saltenv` (cp.list_master_dirs), sorted. */
  listDirs(saltenv: string): Promise<string[]>;
  /** The environments (`base`, ...). */
  envs(): Promise<string[]>;
}
