/**
 * `reactor test --replay`: events sent while `reactor serve` runs map A, then replayed with map B
 * (and A, and a filter). Counts are checked against what the service dispatched, and the replay
 * must leave the server as it found it: no job, no event, no KV write, no consumer left.
 */
import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { JOBS_STREAM, openConnection, watchEvents, type Connection } from "../../src/bus/index.js";
import type { ReplayEventLine, ReplaySummary } from "../../src/apps/index.js";
import { natsForTests } from "../helpers/nats-server.js";
import { runCli } from "../helpers/cli.js";
import { startCliProc, type Proc } from "../helpers/stack.js";
import { registerMinion } from "../helpers/minions.js";
import { waitFor } from "../helpers/wait.js";

const RESTART = "restart_{{ data['service_name'] }}:\n  local.service.restart:\n    - tgt: {{ data['id'] }}\n    - args:\n      - name: {{ data['service_name'] }}\n";
const DEPLOY = "deploy:\n  local.cmd.run:\n    - tgt: {{ data['id'] }}\n    - arg: [ 'deploy.sh' ]\n";
const HEAD = "stream: { storage: memory, max_bytes: 64MiB }\nkeys: { service_key: service.nk }\n";
const MAP_A = `${HEAD}reactor:\n  - 'myco/restart/*': restart.sls\n`;
const MAP_B = `${HEAD}reactor:\n  - tag: 'myco/restart/*'\n    sls: restart.sls\n    throttle: { key: "{{ data['id'] }}", max: 2, per: 10m }\n  - 'myco/deploy/*': deploy.sls\n`;

/** Everything a replay must not change. */
async function snapshot(conn: Connection): Promise<Record<string, unknown>> {
  const state = async (name: string) => {
    const s = (await conn.jsm.streams.info(name)).state;
    return { messages: s.messages, last_seq: s.last_seq };
  };
  const consumers = async (name: string) => (await conn.jsm.consumers.list(name).next()).map((c) => c.name).sort();
  return {
    events: await state("EVENTS"),
    jobs: await state(JOBS_STREAM),
    reactions: await state("KV_reactions"),
    eventConsumers: await consumers("EVENTS"),
    jobConsumers: await consumers(JOBS_STREAM),
    streams: (await conn.jsm.streams.names().next()).sort(),
  };
}

describe("reactor test --replay against a real nats-server and reactor serve", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let dir: string;
  let serve: Proc;
  let conn: Connection;
  let env: Record<string, string>;
  let before0: Record<string, unknown>;

  const replay = async (config: string, ...extra: string[]) => {
    const r = await runCli(["test", "--replay", "1h", "-c", join(dir, config), "--json", ...extra], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!["summary"] as ReplaySummary;
    return { summary, events: lines as unknown as ReplayEventLine[] };
  };

  before(async () => {
    nats = await natsForTests();
    dir = await mkdtemp(join(tmpdir(), "nr-replay-"));
    await writeFile(join(dir, "a.yaml"), MAP_A);
    await writeFile(join(dir, "b.yaml"), MAP_B);
    await writeFile(join(dir, "restart.sls"), RESTART);
    await writeFile(join(dir, "deploy.sls"), DEPLOY);
    conn = await openConnection({ servers: [nats.url] });
    for (const id of ["web1", "web2"]) await registerMinion(conn, id);
    env = { NATS_URL: nats.url, REACTOR_KEY_FILE: join(dir, "service.nk") };
    serve = startCliProc(["serve", "-c", join(dir, "a.yaml")], { NATS_URL: nats.url });
    await waitFor(() => existsSync(join(dir, "service.nk")) && serve.err().includes("reactor service started"), { what: () => `reactor serve (stderr: ${serve.err()})`, timeoutMs: 30_000 });
    const audit = await watchEvents(conn, "EVENTS", { filter: "evt.reactor.>", start: { kind: "all" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
    let dispatched = 0;
    const counted = (async () => {
      for await (const d of audit) if (d.event.tag.endsWith("/dispatched") && d.event.data["ok"] === true) dispatched++;
    })();
    // 3 restarts of web1, 2 of web2, 2 deploys of web1 (map A has no deploy entry)
    const lines = [
      ...[1, 2, 3].map(() => ({ tag: "myco/restart/web1", data: { id: "web1", service_name: "nginx" } })),
      ...[1, 2].map(() => ({ tag: "myco/restart/web2", data: { id: "web2", service_name: "nginx" } })),
      ...[1, 2].map(() => ({ tag: "myco/deploy/web1", data: { id: "web1" } })),
    ];
    await writeFile(join(dir, "events.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const sent = await runCli(["event", "send", "--file", join(dir, "events.jsonl")], env);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor(() => dispatched === 5, { what: () => `5 dispatched restarts (got ${dispatched}; serve: ${serve.err().slice(-2000)})`, timeoutMs: 30_000 });
    await waitFor(async () => {
      const c = await conn.jsm.consumers.info("EVENTS", "reactor");
      return c.num_pending === 0 && c.num_ack_pending === 0;
    }, { what: "the service to have handled every event" });
    await audit.stop();
    await counted;
    before0 = await snapshot(conn);
  });

  after(async () => {
    await serve?.stop();
    await conn?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("map B (a throttle on restarts, a new deploy entry) next to what map A did fire", async () => {
    const { summary, events } = await replay("b.yaml");
    assert.deepEqual(
      summary.by_reaction.map((g) => [g.fun, g.tgt, g.would, g.did, g.difference]),
      [
        ["local.cmd.run", "web1", 2, 0, 2],
        ["local.service.restart", "web1", 2, 3, -1],
        ["local.service.restart", "web2", 2, 2, 0],
      ],
    );
    assert.deepEqual(
      [summary.events, summary.events_with_reactions, summary.would_fire, summary.did_fire, summary.difference, summary.throttled, summary.render_errors, summary.rejected],
      // 12 events: the 7 sent and the service's 5 salt/job/<jid>/new (which fire nothing)
      [12, 7, 6, 5, 1, 1, 0, 0],
    );
    assert.equal(events.length, 7);
    const throttled = events.filter((e) => e.throttled.length > 0);
    assert.deepEqual(throttled.map((e) => [e.tag, e.would.length, e.did.length, e.difference]), [["myco/restart/web1", 0, 1, -1]]);
  });

  it("the running map itself replays with no difference", async () => {
    const { summary } = await replay("a.yaml");
    assert.deepEqual([summary.would_fire, summary.did_fire, summary.difference, summary.events_with_reactions], [5, 5, 0, 5]);
  });

  it("--filter replays only the matching tags; the text form says the total", async () => {
    const { summary } = await replay("b.yaml", "--filter", "myco/deploy/*");
    assert.deepEqual([summary.events, summary.would_fire, summary.did_fire], [2, 2, 0]);
    const text = await runCli(["test", "--replay", "1h", "-c", join(dir, "b.yaml")], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /total: would fire 6, did fire 5, difference \+1/);
    assert.match(text.stdout, /local\.cmd\.run web1 +2 +0 +\+2/);
  });

  it("is read-only: no job, event, KV write, stream or consumer left behind", async () => {
    assert.deepEqual(await snapshot(conn), before0);
    assert.deepEqual((before0["eventConsumers"] as string[]), ["reactor"]);
  });
});
