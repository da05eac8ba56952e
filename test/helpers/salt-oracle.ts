/**
 * The differential oracle of rendering (test/oracle/salt_render.py): one long-lived python3 with
 * the real Jinja2 and PyYAML, fed JSON lines. `REACTOR_ORACLE_PYTHON` picks the interpreter
 * (default `python3`; CI installs Debian's python3-jinja2 and python3-yaml).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./paths.js";

/** A render result as JSON: the value, or the failure. */
export type OracleResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** What the oracle says of one template and event. */
export interface OracleAnswer {
  /** What Salt ends with: Jinja2 (StrictUndefined, sandboxed) then Salt's YAML loader. */
  readonly salt: OracleResult;
  /** The documented rule (same as Salt unless Salt read data text as YAML), computed with PyYAML. */
  readonly safe: OracleResult;
  /** Salt's rendered text (null if the template failed). */
  readonly text: string | null;
}

export class SaltOracle {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (a: OracleAnswer) => void>();
  private next = 0;
  private stderr = "";
  private exited: string | undefined;

  constructor() {
    const python = process.env["REACTOR_ORACLE_PYTHON"] ?? "python3";
    this.proc = spawn(python, [join(repoRoot(), "test/oracle/salt_render.py")], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.on("data", (b: Buffer) => (this.stderr += b.toString()));
    this.proc.on("exit", (code) => {
      this.exited = `the oracle (${python} test/oracle/salt_render.py) exited with ${code}: ${this.stderr.trim() || "no output"} (needs jinja2 and PyYAML: apt-get install python3-jinja2 python3-yaml)`;
      for (const w of this.waiting.values()) w({ salt: { ok: false, error: this.exited }, safe: { ok: false, error: this.exited }, text: null });
      this.waiting.clear();
    });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as OracleAnswer & { id: number };
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
  }

  /** Renders `template` for an event, as Salt does and as the rule says. */
  render(template: string, data: unknown, tag = "test/tag"): Promise<OracleAnswer> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (a) => (a.salt.ok === false && a.salt.error === this.exited ? reject(new Error(this.exited)) : resolve(a)));
      this.proc.stdin.write(`${JSON.stringify({ id, template, tag, data })}\n`);
    });
  }

  /** Ends the process (closing its input) and waits for it. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.proc.stdin.end();
    await done;
  }
}

/** Our values in the oracle's JSON form (floats JSON lacks are tagged, as the oracle tags them). */
export function asOracleJson(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return { $float: Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf" };
  if (Array.isArray(v)) return v.map(asOracleJson);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: asOracleJson(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}
