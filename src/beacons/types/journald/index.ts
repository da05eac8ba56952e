/**
 * `journald`: journal entries matching field filters, pushed as they arrive (`journalctl -f -o json`).
 * Salt's schema: `services: {sshd: {SYSLOG_IDENTIFIER: sshd, PRIORITY: 6}}`; tag
 * `salt/beacon/<id>/journald/<name>`, data: the entry's fields. Where journalctl is missing the
 * beacon fails with "journald is not available on this host" (reported once).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconDeps, type BeaconInstance } from "../../plugin.js";

export interface JournaldConfig {
  /** Name -> fields an entry must have (values compared as strings). */
  readonly services: readonly { readonly name: string; readonly match: Readonly<Record<string, string>> }[];
}

function parse(f: Fields): JournaldConfig {
  const services = f.requiredMap("services");
  return {
    services: services.keys().map((name) => {
      const m = services.map(name);
      return { name, match: Object.fromEntries(m.keys().map((k) => [k, String(m.get(k))])) };
    }),
  };
}

/** The journalctl binary on PATH, if any. */
export function findJournalctl(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, "journalctl"), constants.X_OK);
      return join(dir, "journalctl");
    } catch {
      // not here
    }
  }
  return undefined;
}

function create(config: JournaldConfig, deps: BeaconDeps): BeaconInstance {
  let child: ChildProcess | undefined;
  const onLine = (line: string) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const hits = config.services.filter((s) => Object.entries(s.match).every(([k, v]) => String(entry[k]) === v));
    if (hits.length) deps.emit(hits.map((s) => ({ suffix: s.name, data: { ...entry } })));
  };
  return {
    poll: async () => [],
    start() {
      if (child) return;
      const bin = findJournalctl();
      if (!bin) throw new Error("journald is not available on this host");
      child = spawn(bin, ["-f", "-n", "0", "-o", "json"], { stdio: ["ignore", "pipe", "ignore"] });
      child.on("error", (err) => deps.fail(err));
      createInterface({ input: child.stdout! }).on("line", onLine);
    },
    stop() {
      child?.kill();
      child = undefined;
    },
  };
}

export const journaldPlugin = definePlugin({ type: "journald", options: ["services"], parse, create });
