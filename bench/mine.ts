/**
 * mine.get('*', fun) over 1,000 agents (3 functions each, so the key filter matters), against raw KV
 * gets of the same entries in the same run. One nats-server, file storage, same process.
 * Run: `npx tsx bench/mine.ts [agents] [rounds]`. Prints p50/p99 in ms for:
 * - raw sequential: keys(`*.<fun>`) then one KV get after another (JsonKv.entries),
 * - raw concurrent: keys(`*.<fun>`) then the gets concurrently (no minions, no targeting),
 * - reader.get: the live path (minions + entries fetched concurrently, targeting, age, ACL),
 * - cache.lookup: the watch-fed in-memory copy used by templates (synchronous).
 */
import { performance } from "node:perf_hooks";
import { openConnection } from "../src/bus/index.js";
import {
  createMineCache,
  createMineReader,
  fetchAll,
  mineFilter,
  mineKey,
  minionKey,
  openMineStore,
  openMinionsStore,
  type MineEntry,
} from "../src/mine/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";

const AGENTS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 50);
const FUN = "network.ip_addrs";
const OTHER = ["grains.items", "disk.usage"];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(name: string, rounds: number, fn: () => Promise<number> | number): Promise<void> {
  const times: number[] = [];
  let count = 0;
  await fn(); // warm-up
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    count = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(n < 1 ? 3 : 1).padStart(8);
  console.log(`${name.padEnd(22)} p50 ${f(percentile(times, 50))} ms   p99 ${f(percentile(times, 99))} ms   (${count} values, ${rounds} rounds)`);
}

async function main(): Promise<void> {
  const server = await startNatsServer();
  const conn = await openConnection({ servers: [server.url] });
  try {
    const mine = await openMineStore(conn);
    const minions = await openMinionsStore(conn);
    const stamp = new Date().toISOString();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const id = `host${i}.dc${i % 4}.example.com`;
      writes.push(minions.put(minionKey(id), { id, grains: { roles: [i % 2 ? "web" : "db"], os: "Debian" }, last_seen: stamp }));
      for (const fun of [FUN, ...OTHER]) {
        const value = fun === FUN ? [`10.${i >> 8}.${i & 255}.1`] : { payload: "x".repeat(200), i };
        const e: MineEntry = { id, fun, value, stamp, interval_s: 3600 };
        writes.push(mine.put(mineKey(id, fun), e));
      }
    }
    await Promise.all(writes);
    console.log(`mine bench: ${AGENTS} agents x ${1 + OTHER.length} functions, nats-server ${conn.serverVersion}, file storage`);

    const reader = createMineReader({ mine, minions });
    await measure("raw sequential gets", Math.max(5, Math.floor(ROUNDS / 5)), async () => (await mine.entries(mineFilter({ fun: FUN }))).length);
    await measure("raw concurrent gets", ROUNDS, async () => (await fetchAll(mine, mineFilter({ fun: FUN }))).length);
    await measure("reader.get('*', fun)", ROUNDS, async () => Object.keys(await reader.get("*", FUN)).length);
    await measure("reader.get(grain)", ROUNDS, async () => Object.keys(await reader.get("roles:web", FUN, "grain")).length);
    const t = performance.now();
    const cache = await createMineCache(reader);
    console.log(`cache load             ${(performance.now() - t).toFixed(1)} ms (both buckets)`);
    await measure("cache.lookup('*', fun)", ROUNDS * 10, () => Object.keys(cache.lookup("*", FUN)).length);
    await measure("cache.lookup(compound)", ROUNDS * 10, () => Object.keys(cache.lookup("G@roles:web and host1*", FUN, "compound")).length);
    cache.stop();
  } finally {
    await conn.close();
    await server.stop();
  }
}

await main();
