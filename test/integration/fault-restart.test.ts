/**
 * nats-server crashes and comes back while an agent (a real process) publishes beacon events and
 * runs jobs: the agent buffers and resends, nothing is lost, and every job in flight returns once.
 */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEventPublisher, kvKey, openConnection, openKv, watchEvents, type Connection } from "../../src/bus/index.js";
import { signEvent } from "../../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { loadServiceKey } from "../../src/keys/index.js";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.js";
import { fixtureDir, startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

describe("fault tests: nats-server restarted under an agent", () => {
  let server: NatsServer;
  let dir: string;
  const procs: Proc[] = [];

  before(async () => {
    server = await startNatsServer();
    dir = await fixtureDir("fault");
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await server.stop();
  });

  it("beacon events observed during the outage arrive afterwards, and jobs in flight return exactly once", async () => {
    const env = { NATS_URL: server.url, REACTOR_LOG_LEVEL: "warn" };
    procs.push(startServe(dir, env));
    await waitFor(() => existsSync(join(dir, "service.nk")), { what: "the service" });
    await writeFile(join(dir, "beacons-web1.yaml"), "beacons:\n  status:\n    - interval: 1\n    - loadavg: [ all ]\n");
    procs.push(await startAgentProc(dir, "web1", env, { beacons_file: join(dir, "beacons-web1.yaml"), job_timeout: 10 }));
    let conn: Connection = await openConnection({ servers: [server.url] });
    await waitFor(async () => (await (await openKv(conn, { bucket: "minions" })).get(kvKey("web1"))) !== undefined, { what: "web1 accepted", timeoutMs: 30_000 });
    const key = await loadServiceKey(join(dir, "service.nk"));
    const pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
    // three jobs that are still running when the server dies
    const sleeps = Array.from({ length: 3 }, () => createEvent({ tag: "fault/sleep", data: { host: "web1", seconds: 3, timeout: 30 } }));
    for (const e of sleeps) await pub.publish(e);
    await waitFor(() => existsSync(join(dir, "state-web1", "jobs")), { what: "jobs to start" });
    const down = Date.now();
    await server.kill();
    await new Promise((r) => setTimeout(r, 3000)); // the outage itself: three beacon intervals without a bus
    await server.restart();
    const up = Date.now();
    await conn.close();
    conn = await openConnection({ servers: [server.url] });
    const seen: ReactorEvent[] = [];
    const w = await watchEvents(conn, "EVENTS", { filter: "evt.salt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    void (async () => {
      for await (const d of w) seen.push(d.event);
    })();
    const returns = () => seen.filter((e) => e.tag.includes("/ret/web1") && e.data["fun"] === "test.sleep");
    await waitFor(() => returns().length >= 3, { what: `3 sleep returns (agent: ${procs[1]!.err().slice(-800)})`, timeoutMs: 60_000 });
    // observed while the bus was down, delivered after it came back: Salt's status beacon puts the
    // time of observation in its tag (salt/beacon/<id>/status/<time>)
    const observed = () =>
      seen
        .filter((e) => e.tag.startsWith("salt/beacon/web1/status/"))
        .map((e) => Date.parse(e.tag.slice("salt/beacon/web1/status/".length)))
        .sort((a, b) => a - b);
    const during = await waitFor(() => {
      const s = observed().filter((t) => t > down + 200 && t < up - 200);
      return s.length >= 2 ? s : undefined;
    }, { what: `status beacon events observed during the outage (${observed().map((t) => new Date(t).toISOString()).join(" ")})` });
    const all = observed();
    const gaps = all.slice(1).map((t, k) => t - all[k]!);
    assert.ok(Math.max(...gaps) < 2500, `no beacon interval lost: gaps ${gaps.join(", ")} ms`);
    assert.ok(during.length >= 2);
    await new Promise((r) => setTimeout(r, 1500)); // let any duplicate return show up before counting
    await w.stop();
    const jids = returns().map((e) => e.data["jid"]);
    assert.equal(new Set(jids).size, 3, "one return per job");
    assert.equal(jids.length, 3, "no job returned twice");
    const ids = seen.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, "no event stored twice");
    await conn.close();
  });
});
