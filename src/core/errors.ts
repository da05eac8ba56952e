/**
 * The error classes of nats-reactor. Each failure a user can meet has a small class with a stable
 * `code` (listed in docs/errors.md; a test keeps the two in sync) and, where it came from a file,
 * the file, line and field path.
 */

/** Stable error codes. Never renumber or reuse one: users match on them. */
export const ErrorCode = {
  InvalidTag: "E_TAG_INVALID",
  InvalidSubject: "E_SUBJECT_INVALID",
  InvalidEvent: "E_EVENT_INVALID",
  EventTooLarge: "E_EVENT_TOO_LARGE",
  Config: "E_CONFIG",
  Template: "E_TEMPLATE",
  Render: "E_RENDER",
  Condition: "E_CONDITION",
  Bus: "E_BUS",
  ServerMissing: "E_NATS_SERVER_MISSING",
  Timeout: "E_TIMEOUT",
  Dispatch: "E_DISPATCH",
  Execution: "E_EXECUTION",
  Security: "E_SECURITY",
  ModuleArguments: "E_MODULE_ARGS",
  Service: "E_SERVICE",
  Glob: "E_GLOB",
  Target: "E_TARGET",
  Auth: "E_AUTH",
  Keys: "E_KEYS",
  Requisite: "E_REQUISITE",
  Orchestration: "E_ORCHESTRATE",
  Netapi: "E_NETAPI",
  Api: "E_API",
  State: "E_STATE",
  StateArguments: "E_STATE_ARGS",
  FileServer: "E_FILESERVER",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: a message a user can act on, a stable code, and the cause. */
export class ReactorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A tag that cannot be an event tag (empty, too long, control characters). */
export class InvalidTagError extends ReactorError {
  constructor(
    readonly tag: string,
    reason: string,
  ) {
    super(ErrorCode.InvalidTag, `invalid tag ${JSON.stringify(truncate(tag, 80))}: ${reason}`);
  }
}

/** A NATS subject that is not the encoding of any tag. */
export class InvalidSubjectError extends ReactorError {
  constructor(
    readonly subject: string,
    reason: string,
  ) {
    super(ErrorCode.InvalidSubject, `invalid event subject ${JSON.stringify(truncate(subject, 80))}: ${reason}`);
  }
}

/**
 * Why a message is not a usable event (stable, for metrics and the `reactor/bus/invalid` counts):
 * `no-tag`, `tag-mismatch` (the `Reactor-Tag` header and the subject disagree), `bad-subject`,
 * `not-utf8`, `not-json`, `too-deep` (nesting over MAX_DATA_DEPTH), `not-object`, `bad-header`,
 * `malformed` (anything else).
 */
export type InvalidEventKind =
  | "no-tag"
  | "tag-mismatch"
  | "bad-subject"
  | "not-utf8"
  | "not-json"
  | "too-deep"
  | "not-object"
  | "bad-header"
  | "malformed";

/** An event that is malformed: data not an object, bad JSON, missing header. */
export class InvalidEventError extends ReactorError {
  /** The class of the problem (default `malformed`). */
  readonly kind: InvalidEventKind;
  constructor(reason: string, options?: { cause?: unknown; kind?: InvalidEventKind }) {
    super(ErrorCode.InvalidEvent, `invalid event: ${reason}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.kind = options?.kind ?? "malformed";
  }
}

/** An event over the configured size limit. Events are rejected, never truncated. */
export class EventTooLargeError extends ReactorError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(ErrorCode.EventTooLarge, `event of ${size} bytes is over the limit of ${limit} bytes`);
  }
}

/** Where in a file a problem is: 1-based line and column, and the dotted field path. */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
}

/** Formats `file:line: path: message` (parts that are unknown are left out). */
export function formatLocation(loc: SourceLocation, message: string): string {
  const where = loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file;
  return loc.path ? `${where}: ${loc.path} ${message}` : `${where}: ${message}`;
}

/** A configuration file problem, naming the file, line and field path. */
export class ConfigError extends ReactorError {
  readonly location: SourceLocation;
  readonly reason: string;
  constructor(location: SourceLocation, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.Config, formatLocation(location, reason), options);
    this.location = location;
    this.reason = reason;
  }
}

/** Several configuration problems found in one pass; `errors` lists each one. */
export class ConfigErrors extends ReactorError {
  constructor(readonly errors: readonly ConfigError[]) {
    super(
      ErrorCode.Config,
      errors.length === 1 ? errors[0]!.message : `${errors.length} configuration errors:\n` + errors.map((e) => `  ${e.message}`).join("\n"),
    );
  }
}

/** A template that fails to compile or render (file, line and cause). */
export class TemplateError extends ReactorError {
  constructor(
    readonly location: SourceLocation,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Template, formatLocation(location, reason), options);
  }
}

/** A NATS/bus failure with context. */
export class BusError extends ReactorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Bus, message, options);
  }
}

/** A wait that ran out of time. */
export class TimeoutError extends ReactorError {
  constructor(message: string) {
    super(ErrorCode.Timeout, message);
  }
}

/** Shortens a string for an error message. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}...(${s.length} chars)`;
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An execution module failed (bad input, command not found, I/O error). */
export class ExecutionError extends ReactorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Execution, message, options);
  }
}

/** Missing, extra or mistyped arguments to an execution module function, e.g. `test.echo`. */
export class ModuleArgumentError extends ReactorError {
  constructor(
    readonly fun: string,
    reason: string,
  ) {
    super(ErrorCode.ModuleArguments, `Passed invalid arguments to ${fun}: ${reason}`);
  }
}

/** A service manager operation that cannot be done (unknown service, missing command). */
export class ServiceError extends ReactorError {
  constructor(
    readonly service: string,
    reason: string,
  ) {
    super(ErrorCode.Service, `service ${JSON.stringify(service)}: ${reason}`);
  }
}

/** A tag glob that does not compile. */
export class GlobSyntaxError extends ReactorError {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(ErrorCode.Glob, `invalid glob ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** A JSON-logic condition that does not compile (unknown operator, unsafe variable path). */
export class ConditionError extends ReactorError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(ErrorCode.Condition, path ? `${path}: ${reason}` : reason);
  }
}

/** A target expression that does not parse (compound syntax, bad regex); `position` is 1-based. */
export class TargetSyntaxError extends ReactorError {
  constructor(
    readonly target: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(ErrorCode.Target, `invalid target ${JSON.stringify(truncate(target, 120))} at position ${position}: ${reason}`);
  }
}

/** An authentication failure: a malformed key or signature, a refused handshake, a changed service key. */
export class AuthError extends ReactorError {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Auth, reason, options);
  }
}

/** A key management call that cannot be done (unknown function, bad arguments, no key service). */
export class KeyCommandError extends ReactorError {
  constructor(
    readonly fun: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Keys, `${fun}: ${reason}`, options);
  }
}

/** A requisite that names no step (`require: [salt: nope]`), or one that is malformed. */
export class RequisiteError extends ReactorError {
  constructor(
    readonly step: string,
    readonly reference: string,
    readonly reason: string,
  ) {
    super(ErrorCode.Requisite, `step ${JSON.stringify(step)}: ${reference} ${reason}`);
  }
}

/** Requisites that form a cycle; `cycle` lists the step ids, the first repeated at the end. */
export class RequisiteCycleError extends ReactorError {
  constructor(
    readonly cycle: readonly string[],
    readonly edges: readonly string[],
  ) {
    super(ErrorCode.Requisite, `requisite cycle: ${edges.join(" -> ")}`);
  }
}

/** An orchestration that cannot run: no such file, or a run that cannot be found. */
export class OrchestrationError extends ReactorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Orchestration, message, options);
  }
}

/** An HTTP request to the netapi (webhooks, event stream) that is refused; `status` is the HTTP status. */
export class NetapiError extends ReactorError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(ErrorCode.Netapi, message);
  }
}

/**
 * A REST API request that is refused (salt-api's rest_cherrypy interface): 400 bad lowstate or a
 * disabled client, 401 no or bad credentials or token, 403 an ACL refusal, 406 a bad Accept;
 * `status` is the HTTP status.
 */
export class ApiError extends ReactorError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(ErrorCode.Api, message);
  }
}

/**
 * An SLS tree that does not compile into a state run: a duplicate ID (both files named), a bad
 * include, a state declaration that is not Salt's shape. `file` and `line` are set when known.
 */
export class StateError extends ReactorError {
  constructor(
    message: string,
    readonly where: { readonly file?: string; readonly line?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.State, where.file ? `${where.file}${where.line ? `:${where.line}` : ""}: ${message}` : message, options);
  }
}

/** Arguments of a state function that are missing, unknown or mistyped: `<sls> <id>: file.managed: ...`. */
export class StateArgumentError extends ReactorError {
  constructor(
    readonly fun: string,
    readonly field: string,
    reason: string,
  ) {
    super(ErrorCode.StateArguments, `${fun}: argument '${field}' ${reason}`);
  }
}

/** A `salt://` file that no environment has (naming the path and the environments searched), or a file server failure. */
export class FileServerError extends ReactorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.FileServer, message, options);
  }
}
