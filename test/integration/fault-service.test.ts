/**
 * Fault tests with real processes killed by SIGKILL: the reactor service dies in the middle of a
 * stream, one of two replicas dies, an agent dies mid-job. Each event's reaction appends one line
 * on an agent (a user module), so "exactly once" is counted, not assumed.
 * FAULT_EVENTS sets the stream length (default 10,000).
 */
import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEventPublisher, kvKey, openConnection, openKv, watchEvents, type Connection, type EventPublisher } from "../../src/bus/index.js";
import { signEvent } from "../../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { deriveJid } from "../../src/reactor/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { fixtureDir, startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

const N = Number(process.env.FAULT_EVENTS ?? 10_000);

describe("fault tests: killed service, replicas and agents (real processes)", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let env: Record<string, string>;
  let conn: Connection;
  let pub: EventPublisher;
  const procs: Proc[] = [];

  before(async () => {
    nats = await natsForTests();
    dir = await fixtureDir("fault");
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: "warn" };
    const first = startServe(dir, env);
    procs.push(first);
    await waitFor(async () => (await loadServiceKey(join(dir, "service.nk")).catch(() => undefined)) ?? false, { what: `the service key (service: ${first.err()})`, timeoutMs: 20_000 });
    const key = await loadServiceKey(join(dir, "service.nk"));
    conn = await openConnection({ servers: [nats.url] });
    pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
    procs.push(await startAgentProc(dir, "web1", env, { modules_dir: join(dir, "modules"), job_timeout: 5 }));
    const minions = await openKv(conn, { bucket: "minions" });
    await waitFor(async () => (await minions.get(kvKey("web1"))) !== undefined, { what: "agent web1 accepted and present", timeoutMs: 30_000 });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await conn.close();
    await nats.stop();
  });

  async function publishAll(events: ReactorEvent[], onProgress: (n: number) => Promise<void>): Promise<void> {
    const inflight = new Set<Promise<unknown>>();
    for (let i = 0; i < events.length; i++) {
      const p = pub.publish(events[i]!).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 128) await Promise.race(inflight);
      await onProgress(i + 1);
    }
    await Promise.all(inflight);
  }

  async function linesOf(file: string): Promise<string[]> {
    return (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  }

  function assertExactlyOnce(lines: string[], n: number): void {
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    const twice = [...counts].filter(([, c]) => c > 1).map(([k]) => k);
    const missing = Array.from({ length: n }, (_, i) => String(i)).filter((k) => !counts.has(k));
    assert.deepEqual({ twice: twice.slice(0, 10), missing: missing.slice(0, 10) }, { twice: [], missing: [] });
    assert.equal(lines.length, n);
  }

  it(`a service killed mid-stream of ${N} events resumes: every reaction ran exactly once`, async () => {
    const file = join(dir, "killed-service.txt");
    const events = Array.from({ length: N }, (_, n) => createEvent({ tag: "fault/append", data: { host: "web1", file, n } }));
    let killed = false;
    await publishAll(events, async (sent) => {
      if (!killed && sent >= N / 3) {
        killed = true;
        await procs[0]!.kill();
        procs[0] = startServe(dir, env); // a new process resumes from the durable consumer
      }
    });
    assert.ok(killed);
    const lines = await waitFor(async () => {
      const l = await linesOf(file);
      return l.length >= N ? l : undefined;
    }, { what: `${N} lines (service: ${procs[0]!.err().slice(-1000)})`, timeoutMs: 240_000, intervalMs: 500 });
    assertExactlyOnce(lines, N);
  });

  it("two replicas share the stream; one is killed; the other finishes, each reaction once", async () => {
    const file = join(dir, "replicas.txt");
    const second = startServe(dir, env);
    procs.push(second);
    const n = Math.min(N, 4000);
    const events = Array.from({ length: n }, (_, i) => createEvent({ tag: "fault/append", data: { host: "web1", file, n: i } }));
    let killed = false;
    await publishAll(events, async (sent) => {
      if (!killed && sent >= n / 2) {
        killed = true;
        await procs[0]!.kill();
      }
    });
    const lines = await waitFor(async () => {
      const l = await linesOf(file);
      return l.length >= n ? l : undefined;
    }, { what: `${n} lines`, timeoutMs: 180_000, intervalMs: 500 });
    assertExactlyOnce(lines, n);
    procs[0] = startServe(dir, env);
  });

  it("an agent killed mid-job reports the job failed after its restart, and does not run it again", async () => {
    const returns: ReactorEvent[] = [];
    const watch = await watchEvents(conn, "EVENTS", { filter: "evt.salt.job.>", start: { kind: "new" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    void (async () => {
      for await (const d of watch) if (d.event.tag.includes("/ret/")) returns.push(d.event);
    })();
    const before = (await readFile(join(dir, "state-web1", "agent.nk"), "utf8")).length; // the agent's identity survives
    const ev = createEvent({ tag: "fault/sleep", data: { host: "web1", seconds: 30, timeout: 60 } });
    await pub.publish(ev);
    // the job is running once the agent's ledger has its start record (jids derive from the event)
    const record = join(dir, "state-web1", "jobs", `${deriveJid(ev.id, "sleep", ev.stamp)}.json`);
    await waitFor(async () => (await readFile(record, "utf8").catch(() => "")).includes('"started"'), { what: "the sleep job to start" });
    const agent = procs[1]!;
    await agent.kill();
    procs[1] = await startAgentProc(dir, "web1", env, { modules_dir: join(dir, "modules"), job_timeout: 5 });
    const ret = await waitFor(() => returns.find((r) => r.data["fun"] === "test.sleep"), { what: `the sleep job's return (agent: ${procs[1]!.err().slice(-1000)})`, timeoutMs: 60_000 });
    await watch.stop();
    assert.equal(ret.data["success"], false);
    assert.match(String(ret.data["return"]), /interrupted/);
    assert.equal((await readFile(join(dir, "state-web1", "agent.nk"), "utf8")).length, before);
    assert.equal(returns.filter((r) => r.data["fun"] === "test.sleep").length, 1);
  });
});
