/** Helpers shared by CLI commands: data arguments, output, signals, NATS credentials flags. */
import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { NATS_AUTH_ENV } from "../apps/index.js";
import { InvalidEventError, errorMessage } from "../core/index.js";

/** Reads a DATA argument: JSON text, or `@path` to a JSON file. Must be an object. */
export async function readDataArg(arg: string | undefined): Promise<Record<string, unknown>> {
  if (arg === undefined) return {};
  let text = arg;
  let where = "DATA";
  if (arg.startsWith("@")) {
    where = arg.slice(1);
    try {
      text = await readFile(where, "utf8");
    } catch (err) {
      throw new InvalidEventError(`cannot read ${where}: ${errorMessage(err)}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`${where} is not valid JSON: ${errorMessage(err)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidEventError(`${where} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Writes one line to stdout. */
export function println(s = ""): void {
  process.stdout.write(s + "\n");
}

/** Prints an error for the user and sets a non-zero exit code. */
export function fail(err: unknown, code = 1): void {
  process.stderr.write(`reactor: ${errorMessage(err)}\n`);
  process.exitCode = code;
}

/** Resolves on the first SIGINT or SIGTERM (the one place a CLI command waits for signals). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/** Parses `--since`: a duration back from now (`10m`, `2h`, `30s`, `1d`) or an ISO time. */
export function parseSince(value: string): Date {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (m) {
    const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as "s"];
    return new Date(Date.now() - ms);
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`--since ${JSON.stringify(value)} is neither a duration (10m, 2h) nor an ISO time`);
  return d;
}

const AUTH_FLAGS = [
  ["--creds <file>", "NATS credentials file (default: NATS_CREDS)", "creds"],
  ["--nkey <file>", "NATS nkey seed file, e.g. the service key on its host (default: NATS_NKEY)", "nkey"],
  ["--tls-ca <file>", "CA of the NATS server's certificate (default: NATS_TLS_CA)", "tlsCa"],
  ["--tls-cert <file>", "client certificate for NATS (default: NATS_TLS_CERT)", "tlsCert"],
  ["--tls-key <file>", "key of the client certificate (default: NATS_TLS_KEY)", "tlsKey"],
] as const;

/**
 * Adds `--creds`, `--nkey`, `--tls-ca`, `--tls-cert`, `--tls-key` to every command that connects
 * (those with `--nats`, except serve, agent and up, which read their config files); a flag given sets its environment variable (NATS_CREDS, ...) before the
 * command runs, so every connection of the command uses it (apps/client.ts cliNatsAuth).
 */
export function addNatsAuthFlags(program: Command): void {
  const visit = (cmd: Command) => {
    // serve, agent and up take their credentials from reactor.yaml / agent.yaml (or make them)
    if (cmd.options.some((o) => o.long === "--nats") && !["serve", "agent", "up"].includes(cmd.name())) {
      for (const [flag, help] of AUTH_FLAGS) cmd.option(flag, help);
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  program.hook("preAction", (_root, action) => {
    const opts = action.opts<Record<string, unknown>>();
    for (const [, , key] of AUTH_FLAGS) {
      const v = opts[key];
      if (typeof v === "string") process.env[NATS_AUTH_ENV[key]] = v;
    }
  });
}
