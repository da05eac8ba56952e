/**
 * `reactor validate -c reactor.yaml [--json] [--strict]`: checks the service file and its reactor
 * map with the same compile step the service runs at start (every field, glob, condition, throttle,
 * and every SLS file's template syntax), then renders every SLS once with a sample event.
 *
 * The sample render cannot know real event data, so its problems (e.g. an undefined `data['x']`
 * under the strict template engine) are **warnings**; `--strict` makes them errors. Exit code: 0
 * when there are no errors, 1 otherwise.
 *
 * Extension point: `VALIDATORS` lists the checks; agent.yaml and beacons.yaml checks are added
 * there as `{ name, run }` entries.
 */
import type { Command } from "commander";
import { ConfigError, ConfigErrors, errorMessage } from "../../core/errors.js";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { checkSchema, loadAgentConfig, loadServiceConfig, parseYaml, type SchemaName } from "../../config/index.js";
import { compileBeacons } from "../../beacons/index.js";
import { filesOf, normaliseSls, renderSlsFile, unquotedDataInCommands } from "../../reactor/index.js";

/** One finding: `file:line: message`, an error or a warning. */
export interface Finding {
  readonly severity: "error" | "warning";
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

/** Options of `reactor validate`. */
export interface ValidateOptions {
  config: string;
  json?: boolean;
  strict?: boolean;
  /** agent.yaml files to check (with the beacons file each names). */
  agent?: string[];
  /** beacons.yaml files to check on their own. */
  beacons?: string[];
}

/** A check run by `reactor validate`. */
export interface Validator {
  readonly name: string;
  run(opts: ValidateOptions): Promise<Finding[]>;
}

/** The sample event used to render every SLS file. */
export const SAMPLE_EVENT = { tag: "salt/test/validate", data: { id: "validate", _stamp: "1970-01-01T00:00:00.000Z" } } as const;

/** The checks, in order. */
export const VALIDATORS: Validator[] = [
  { name: "reactor", run: validateServiceFile },
  { name: "agent", run: validateAgentFiles },
  { name: "beacons", run: validateBeaconsFiles },
];

/** Registers `reactor validate`. */
export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check reactor.yaml, the reactor map and every SLS file (and agent/beacons files)")
    .option("-c, --config <file>", "the service configuration", "reactor.yaml")
    .option("--json", "print the findings as JSON")
    .option("--strict", "treat problems of the sample render as errors")
    .option("--agent <file...>", "also check these agent.yaml files and the beacons file each names")
    .option("--beacons <file...>", "also check these beacons.yaml files")
    .action(async (opts: ValidateOptions) => {
      process.exitCode = await runValidate(opts);
    });
}

/** Runs every validator, prints the findings, returns the exit code. */
export async function runValidate(opts: ValidateOptions, out: (s: string) => void = print): Promise<number> {
  const findings: Finding[] = [];
  for (const v of VALIDATORS) findings.push(...(await v.run(opts)));
  const final = opts.strict ? findings.map((f) => ({ ...f, severity: "error" as const })) : findings;
  const errors = final.filter((f) => f.severity === "error").length;
  if (opts.json) out(JSON.stringify({ ok: errors === 0, findings: final }));
  else {
    for (const f of final) out(`${f.severity}: ${f.file}${f.line === null ? "" : `:${f.line}`}: ${f.message}`);
    out(errors ? `${errors} error(s), ${final.length - errors} warning(s)` : `ok (${final.length} warning(s))`);
  }
  return errors ? 1 : 0;
}

/** Compiles reactor.yaml (errors) and renders every SLS with the sample event (warnings). */
export async function validateServiceFile(opts: ValidateOptions): Promise<Finding[]> {
  let config;
  try {
    config = await loadServiceConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((e) => fromConfigError(e));
    if (err instanceof ConfigError) return [fromConfigError(err)];
    return [{ severity: "error", file: opts.config, line: null, message: errorMessage(err) }];
  }
  // The JSON Schema editors use must agree with the compiler: a file the compiler accepts is checked
  // against it too, so a drift between the two shows up here rather than in a user's editor.
  const findings: Finding[] = await schemaFindings("reactor", opts.config);
  for (const file of filesOf(config.reactor)) {
    for (const p of unquotedDataInCommands(await readFile(file.absPath, "utf8"), file.path)) findings.push({ severity: "warning", ...p });
    const r = renderSlsFile(file, SAMPLE_EVENT);
    if ("error" in r) {
      findings.push({ severity: "warning", ...r.error, message: `with a sample event: ${r.error.message}` });
      continue;
    }
    const n = normaliseSls(r.value, file.path);
    for (const p of [...n.errors, ...n.warnings]) findings.push({ severity: "warning", ...p, message: `with a sample event: ${p.message}` });
  }
  return findings;
}

/** Compiles each agent.yaml (errors) and the beacons file it names, when that file exists. */
export async function validateAgentFiles(opts: ValidateOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of opts.agent ?? []) {
    try {
      const agent = await loadAgentConfig(file);
      findings.push(...(await schemaFindings("agent", file)));
      if (existsSync(agent.beacons_file)) findings.push(...(await beaconsFindings(agent.beacons_file)));
    } catch (err) {
      findings.push(...findingsOf(err, file));
    }
  }
  return findings;
}

/** Compiles each beacons.yaml: every invalid beacon is an error naming file, line and field. */
export async function validateBeaconsFiles(opts: ValidateOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of opts.beacons ?? []) findings.push(...(await beaconsFindings(file)));
  return findings;
}

async function beaconsFindings(file: string): Promise<Finding[]> {
  try {
    const errors = compileBeacons(parseYaml(await readFile(file, "utf8"), file)).errors.map(fromConfigError);
    return errors.length ? errors : await schemaFindings("beacons", file);
  } catch (err) {
    return findingsOf(err, file);
  }
}

/** Schema problems of a file the compiler accepted, as errors (prefixed: they are the schema's words). */
async function schemaFindings(name: SchemaName, file: string): Promise<Finding[]> {
  const src = parseYaml(await readFile(file, "utf8"), file);
  return checkSchema(name, src).map((e) => ({ ...fromConfigError(e), message: `schemas/${name}.schema.json: ${fromConfigError(e).message}` }));
}

function findingsOf(err: unknown, file: string): Finding[] {
  if (err instanceof ConfigErrors) return err.errors.map((e) => fromConfigError(e));
  if (err instanceof ConfigError) return [fromConfigError(err)];
  return [{ severity: "error", file, line: null, message: errorMessage(err) }];
}

function fromConfigError(e: ConfigError): Finding {
  const path = e.location.path ? `${e.location.path} ` : "";
  return { severity: "error", file: e.location.file, line: e.location.line ?? null, message: `${path}${e.reason}` };
}

function print(s: string): void {
  process.stdout.write(`${s}\n`);
}
