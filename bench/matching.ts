/**
 * Matching cost per event against maps of 10 to 100,000 entries (DESIGN.md 3.2: the cost must not
 * grow linearly with the map). Run: `npx tsx bench/matching.ts`. Prints ns/event and the ratio to
 * the 10-entry map.
 */
import { compileTagGlob } from "../src/core/glob/index.js";
import { MapIndex, type MatchableEntry } from "../src/reactor/index.js";
import { isMain } from "./lib.js";

const BEACONS = ["service", "diskusage", "load", "inotify", "memusage", "ps", "http_status"];

/** Realistic globs: per-host beacons, per-service, job returns, a few wildcards-first entries. */
function globFor(i: number): string {
  switch (i % 8) {
    case 0: return `salt/beacon/web${i}/${BEACONS[i % BEACONS.length]}/*`;
    case 1: return `salt/minion/db${i}/start`;
    case 2: return `salt/beacon/*/service/svc${i}`;
    case 3: return `salt/job/*/ret/host${i}`;
    case 4: return `app/team${i}/deploy/*`;
    case 5: return `salt/netapi/hook/hook${i}`;
    case 6: return `custom/${i}/event/[a-z]*`;
    default: return i % 800 === 7 ? `*/alert${i}` : `salt/key/${i}/*`;
  }
}

function tagsFor(n: number): string[] {
  const tags: string[] = [];
  for (let k = 0; k < 1000; k++) {
    const i = (k * 7919) % Math.max(n, 1);
    tags.push(
      [`salt/beacon/web${i}/service/nginx`, `salt/minion/db${i}/start`, `salt/job/2024/ret/host${i}`, `app/team${i}/deploy/v2`, "salt/auth"][k % 5]!,
    );
  }
  return tags;
}

/** Mean matching cost in ns per event for a map of `n` entries (also used by bench/reactor.ts). */
export function matchingCost(n: number): number {
  const entries: MatchableEntry[] = Array.from({ length: n }, (_, i) => ({ index: i, glob: compileTagGlob(globFor(i)) }));
  const index = new MapIndex(entries);
  const tags = tagsFor(n);
  let sink = 0;
  for (let r = 0; r < 20; r++) for (const tag of tags) sink += index.match({ tag, data: {} }).length; // warm-up
  const rounds = 200;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const tag of tags) sink += index.match({ tag, data: {} }).length;
  const ns = Number(process.hrtime.bigint() - start) / (rounds * tags.length);
  if (sink < 0) console.log(sink);
  return ns;
}

if (isMain(import.meta.url)) {
  const sizes = [10, 1000, 10000, 100000];
  const base = matchingCost(sizes[0]!);
  for (const n of sizes) {
    const ns = n === sizes[0] ? base : matchingCost(n);
    console.log(`${String(n).padStart(7)} entries: ${ns.toFixed(0).padStart(6)} ns/event  (x${(ns / base).toFixed(2)} of 10 entries)`);
  }
}
