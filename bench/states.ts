/**
 * A highstate of 200 states with nothing to change (100 file.managed, 70 cmd.run with `creates`,
 * 30 service.running of a command-managed service), run masterless as `reactor call --local`
 * does, against a shell loop doing the same checks in the same run (cmp the content and stat the
 * mode of each file, `test -e` each `creates`, the service's check command). Prints the load
 * average. Run: `npm run build && node dist/bench/states.js`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callLocal } from "../src/apps/index.js";
import { silentLogger } from "../src/core/index.js";
import { goal, isMain, median, ms, noiseNote } from "./lib.js";

const FILES = 100;
const CMDS = 70;
const SERVICES = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function tree(dir: string): { agentYaml: string; shell: string; pidfile: string } {
  const roots = join(dir, "roots");
  const out = join(dir, "out");
  mkdirSync(roots, { recursive: true });
  mkdirSync(out);
  const pidfile = join(dir, "svc.pid");
  const sls: string[] = [];
  const sh: string[] = ["#!/bin/sh", "fail=0"];
  for (let i = 0; i < FILES; i++) {
    const f = join(out, `f${i}.conf`);
    sls.push(`file-${i}:`, "  file.managed:", `    - name: ${f}`, `    - contents: "line ${i}"`, "    - mode: '0644'");
    sh.push(`printf 'line ${i}\\n' | cmp -s - ${f} || fail=1`, `[ "$(stat -c %a ${f})" = 644 ] || fail=1`);
  }
  for (let i = 0; i < CMDS; i++) {
    const f = join(out, `c${i}`);
    sls.push(`cmd-${i}:`, "  cmd.run:", `    - name: touch ${f}`, `    - creates: ${f}`);
    sh.push(`[ -e ${f} ] || touch ${f}`);
  }
  for (let i = 0; i < SERVICES; i++) {
    sls.push(`svc-${i}:`, "  service.running:", "    - name: demo");
    sh.push(`kill -0 $(cat ${pidfile}) 2>/dev/null || fail=1`);
  }
  sh.push("exit $fail");
  writeFileSync(join(roots, "bench.sls"), `${sls.join("\n")}\n`);
  writeFileSync(join(roots, "top.sls"), "base:\n  '*':\n    - bench\n");
  const agentYaml = join(dir, "agent.yaml");
  writeFileSync(
    agentYaml,
    [
      "id: bench1",
      `state_dir: ${join(dir, "state")}`,
      "file_client: local",
      "service_manager: command",
      `file_roots: { base: [ ${roots} ] }`,
      "services:",
      "  demo:",
      `    check: ["sh", "-c", "kill -0 $(cat ${pidfile}) 2>/dev/null"]`,
      `    start: ["sh", "-c", "sleep 3600 & echo $! > ${pidfile}"]`,
      `    stop: ["sh", "-c", "kill $(cat ${pidfile})"]`,
      "",
    ].join("\n"),
  );
  const shell = join(dir, "check.sh");
  writeFileSync(shell, `${sh.join("\n")}\n`, { mode: 0o755 });
  return { agentYaml, shell, pidfile };
}

export async function main(): Promise<void> {
  console.log(noiseNote());
  const dir = mkdtempSync(join(tmpdir(), "bench-states-"));
  const { agentYaml, shell, pidfile } = tree(dir);
  try {
    const apply = async () => {
      const t0 = performance.now();
      const { ret } = await callLocal({ configPath: agentYaml, fun: "state.apply", arg: [], kwarg: {}, log: silentLogger });
      const wall = performance.now() - t0;
      if (ret.retcode !== 0) throw new Error(`state.apply failed: ${JSON.stringify(ret.return).slice(0, 500)}`);
      const results = Object.values(ret.return as Record<string, { changes: object }>);
      return { wall, changed: results.filter((r) => Object.keys(r.changes).length).length, states: results.length };
    };
    const first = await apply();
    console.log(`first run (converging): ${first.states} states, ${first.changed} changed, ${ms(first.wall)}`);
    const runs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await apply();
      if (r.changed) throw new Error(`a run with nothing to change changed ${r.changed} states`);
      runs.push(r.wall);
    }
    const shellRuns: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const r = spawnSync("/bin/sh", [shell]);
      shellRuns.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`the shell baseline found something to change: ${r.stderr.toString()}`);
    }
    const s = median(runs);
    const b = median(shellRuns);
    console.log(`highstate, ${first.states} states, nothing to change: median ${ms(s)} over ${ROUNDS} runs (min ${ms(Math.min(...runs))}, max ${ms(Math.max(...runs))})`);
    console.log(`shell loop doing the same checks: median ${ms(b)} (min ${ms(Math.min(...shellRuns))}, max ${ms(Math.max(...shellRuns))})`);
    console.log(`ratio state run / shell loop: ${(s / b).toFixed(2)}x`);
    goal("states", "200-state highstate with nothing to change, vs a shell loop of the same checks", `${ms(s)} vs ${ms(b)} (${(s / b).toFixed(2)}x)`, undefined);
  } finally {
    try {
      execFileSync("sh", ["-c", `kill $(cat ${pidfile})`], { stdio: "ignore" });
    } catch {
      // not started
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await main();
