/**
 * The new-host flow of issue 5 with real processes: an agent starts with a new id -> `salt/auth`
 * pend -> Salt's auto-accept reactor accepts ids starting with `web` -> `salt/key` accept -> the
 * agent is accepted and sends `salt/minion/<id>/start` -> a reaction runs a job on it. An id that
 * does not match stays pending; an accepted agent speaking for another is ignored and reported.
 */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createEventPublisher, openConnection, openKv, watchEvents, kvKey, type Connection } from "../../src/bus/index.js";
import { signEvent, signerFromSeed } from "../../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../../src/core/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { runCli } from "../helpers/cli.js";
import { fixtureDir, startAgentProc, startServe, type Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

describe("the new-host flow, end to end", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let env: Record<string, string>;
  let conn: Connection;
  const procs: Proc[] = [];
  const events: ReactorEvent[] = [];

  before(async () => {
    nats = await natsForTests();
    dir = await fixtureDir("newhost");
    env = { NATS_URL: nats.url, REACTOR_LOG_LEVEL: "warn", REACTOR_KEY_FILE: join(dir, "service.nk") };
    conn = await openConnection({ servers: [nats.url] });
    procs.push(startServe(dir, env));
    await waitFor(() => existsSync(join(dir, "service.nk")), { what: "the service to start" });
    const w = await watchEvents(conn, "EVENTS", { filter: "evt.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    void (async () => {
      for await (const d of w) events.push(d.event);
    })();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await conn.close();
    await nats.stop();
  });

  it("web7 is accepted by the reactor, starts, and a reaction runs a job on it; db9 stays pending", async () => {
    const welcome = join(dir, "welcome-web7");
    procs.push(await startAgentProc(dir, "web7", env, { grains: { welcome_file: welcome } }));
    procs.push(await startAgentProc(dir, "db9", env));
    const auth = (id: string, act: string) => events.find((e) => e.tag === "salt/auth" && e.data["id"] === id && e.data["act"] === act);
    await waitFor(() => auth("web7", "pend") && auth("db9", "pend"), { what: `salt/auth pend of both (service: ${procs[0]!.err().slice(-800)})`, timeoutMs: 20_000 });
    const key = await waitFor(() => events.find((e) => e.tag === "salt/key" && e.data["id"] === "web7"), { what: "salt/key accept of web7" });
    assert.equal(key.data["act"], "accept");
    assert.equal(key.data["result"], true);
    await waitFor(() => events.find((e) => e.tag === "salt/minion/web7/start"), { what: `web7's start event (agent: ${procs[1]!.err().slice(-800)})`, timeoutMs: 30_000 });
    await waitFor(() => existsSync(welcome), { what: "the welcome job to run on web7", timeoutMs: 20_000 });
    const list = await runCli(["key", "list", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    const keys = JSON.parse(list.stdout) as Record<string, string[]>;
    assert.deepEqual(keys["minions"], ["web7"]);
    assert.deepEqual(keys["minions_pre"], ["db9"]);
    assert.equal(events.find((e) => e.tag === "salt/minion/db9/start"), undefined, "a pending agent does nothing");
  });

  it("an accepted agent speaking for another agent is ignored and reported", async () => {
    const seed = (await import("node:fs/promises")).readFile(join(dir, "state-web7", "agent.nk"), "utf8");
    const web7 = signerFromSeed((await seed).trim());
    const pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, web7) });
    // web7's key, db9's namespace: matches the start reaction, must not run it
    const forged = createEvent({ tag: "salt/minion/db9/start", data: { id: "db9", grains: { welcome_file: join(dir, "forged") } }, source: "web7" });
    await pub.publish(forged);
    const rej = await waitFor(() => events.find((e) => e.tag === "reactor/security/rejected" && e.data["event_id"] === forged.id), { what: "the rejection" });
    assert.equal(rej.data["kind"], "namespace");
    const minions = await openKv(conn, { bucket: "minions" });
    assert.ok(await minions.get(kvKey("web7")));
    assert.equal(existsSync(join(dir, "forged")), false);
  });
});
