/**
 * Authenticity costs. Run: `npx tsx bench/auth.ts [events] [agents]`.
 * 1. Per event (µs): JSON encode+decode of the event's data (the baseline every event pays anyway),
 *    signing (node:crypto ed25519 as the service key signs; @nats-io/nkeys as AgentIdentity signs),
 *    and verifying (the service's full check: key lookup, signature, namespace, replay).
 * 2. Handshake at scale: `agents` simulated agents (default 1,000) authenticate at once against a
 *    key service with an autosign policy on one nats-server; time from the first attempt to the
 *    last agent accepted.
 */
import { performance } from "node:perf_hooks";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { openConnection } from "../src/bus/index.js";
import { authenticate } from "../src/agent/index.js";
import { createEventVerifier, signEvent, signerFromSeed } from "../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../src/core/index.js";
import { loadOrCreateServiceKey, openKeyStore, startKeyService } from "../src/keys/index.js";
import { startNatsServer } from "../test/helpers/nats-server.js";

const EVENTS = Number(process.argv[2] ?? 20_000);
const AGENTS = Number(process.argv[3] ?? 1000);

function perEvent(name: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 500); i++) fn(i); // warm-up
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const us = ((performance.now() - t) * 1000) / n;
  console.log(`${name.padEnd(52)} ${us.toFixed(1).padStart(8)} µs/event`);
  return us;
}

function eventCosts(): void {
  const kp = createUser();
  const fast = signerFromSeed(kp.getSeed());
  const data = { id: "web1.example.com", service_name: "nginx", running: false, "1m": 0.42, disk: { "/": "81%", "/var": "40%" } };
  const events: ReactorEvent[] = Array.from({ length: EVENTS }, () => createEvent({ tag: "salt/beacon/web1.example.com/service/nginx", data, source: "web1.example.com" }));
  console.log(`per event (${EVENTS} events, ${JSON.stringify(events[0]!.data).length} bytes of data)`);
  const base = perEvent("baseline: JSON encode + decode of the data", EVENTS, (i) => void JSON.parse(JSON.stringify(events[i]!.data)));
  const signed = events.map((e) => signEvent(e, fast));
  perEvent("sign, node:crypto ed25519 (signerFromSeed)", EVENTS, (i) => void signEvent(events[i]!, fast));
  const slowN = Math.min(EVENTS, 2000);
  perEvent("sign, @nats-io/nkeys (AgentIdentity today)", slowN, (i) => void signEvent(events[i]!, kp));
  const verifier = createEventVerifier({ keys: { get: (id) => (id === "web1.example.com" ? fast.publicKey : undefined) } });
  const verify = perEvent("verify: lookup + signature + namespace + replay", EVENTS, (i) => {
    if (i >= 500 && !verifier.verify(signed[i]!).ok) throw new Error("verification failed");
  });
  console.log(`verify costs ${(verify / base).toFixed(1)}x the JSON baseline`);
}

async function handshakeAtScale(): Promise<void> {
  const server = await startNatsServer();
  const dir = await mkdtemp(join(tmpdir(), "nr-bench-auth-"));
  const conn = await openConnection({ servers: [server.url] });
  const agentConns = await Promise.all(Array.from({ length: 8 }, () => openConnection({ servers: [server.url] })));
  try {
    const store = await openKeyStore(conn, { bucket: "keys", storage: "file" });
    const serviceKey = await loadOrCreateServiceKey(join(dir, "service.nk"));
    let authEvents = 0;
    const svc = await startKeyService({
      conn,
      store,
      serviceKey,
      policy: { auto_accept: false, autosign: ["bench-*"], autoreject: ["bench-bad-*"], autosign_grains: {} },
      emit: async () => void authEvents++,
    });
    const agents = Array.from({ length: AGENTS }, (_, i) => {
      const s = signerFromSeed(createUser().getSeed());
      return { id: `bench-${i}.example.com`, identity: { publicKey: s.publicKey, sign: s.sign } };
    });
    const stateDirs = await Promise.all(agents.map((_, i) => mkdtemp(join(dir, `a${i}-`))));
    let last = 0;
    const t0 = performance.now();
    await Promise.all(
      agents.map(async (a, i) => {
        await authenticate({ conn: agentConns[i % agentConns.length]!, id: a.id, identity: a.identity, stateDir: stateDirs[i]!, requestTimeoutMs: 30_000 });
        last = performance.now();
      }),
    );
    const ms = last - t0;
    const accepted = (await svc.wheel.call("key.list", { match: "acc" })).return as { minions: string[] };
    console.log(`\n${AGENTS} agents through autosign: first attempt -> last accepted ${ms.toFixed(0)} ms (${((AGENTS / ms) * 1000).toFixed(0)} accepts/s); ${accepted.minions.length} accepted, ${authEvents} salt/auth events`);
    await svc.stop();
  } finally {
    await Promise.all(agentConns.map((c) => c.close()));
    await conn.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

eventCosts();
await handshakeAtScale();
