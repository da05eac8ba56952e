import { strict as assert } from "node:assert";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { natsForTests } from "../helpers/nats-server.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

describe("reactor event send|watch (real processes)", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let env: Record<string, string>;
  before(async () => {
    nats = await natsForTests();
    env = { NATS_URL: nats.url };
  });
  after(() => nats.stop());

  it("sends an event and a watcher gets it back exactly", async () => {
    const tag = "salt/beacon/web01.example.com/inotify//etc/nginx/nginx.conf";
    const data = { path: "/etc/nginx/nginx.conf", change: "IN_MODIFY", tricky: "a: b\n- c {{ x }} # ü" };
    // make sure the stream exists before the watcher starts following new events
    const warm = await runCli(["event", "send", "warmup", "{}"], env);
    assert.equal(warm.code, 0, warm.stderr);
    const watcher = startCli(["event", "watch", "salt/beacon/*", "--json"], env);
    try {
      await waitFor(async () => {
        const r = await runCli(["event", "send", "salt/beacon/probe/x", "{}"], env);
        assert.equal(r.code, 0, r.stderr);
        return watcher.out().includes("salt/beacon/probe/x");
      }, { what: "watcher to be ready", timeoutMs: 15_000, intervalMs: 200 });
      const sent = await runCli(["event", "send", tag, JSON.stringify(data), "--json"], env);
      assert.equal(sent.code, 0, sent.stderr);
      const { id } = JSON.parse(sent.stdout) as { id: string };
      const line = await waitFor(() => watcher.out().split("\n").find((l) => l.includes(id)), { what: "the event" });
      const got = JSON.parse(line) as { tag: string; data: Record<string, unknown>; id: string; source: string; stamp: string };
      assert.equal(got.tag, tag);
      assert.equal(got.source, "cli");
      assert.deepEqual(got.data, { ...data, _stamp: got.stamp });
      assert.ok(!watcher.out().includes('"tag":"warmup"'), "the glob filters other tags");
    } finally {
      watcher.child.kill("SIGINT");
    }
  });

  it("keeps watching after a malformed message and reports it", async () => {
    const watcher = startCli(["event", "watch", "bad/*", "--json"], env);
    const raw = await connect({ servers: nats.url });
    try {
      const js = jetstream(raw);
      await waitFor(async () => {
        const h = headers();
        h.set("Reactor-Tag", "bad/json");
        h.set("Nats-Msg-Id", `b${Date.now()}${Math.random()}`);
        await js.publish("evt.bad.json", "{nope", { headers: h });
        return watcher.err().includes("skipped message on evt.bad.json");
      }, { what: "report of the bad message", timeoutMs: 15_000, intervalMs: 200 });
      assert.match(watcher.err(), /invalid event: payload is not valid JSON/);
      const sent = await runCli(["event", "send", "bad/good", '{"ok":true}'], env);
      assert.equal(sent.code, 0);
      await waitFor(() => watcher.out().includes('"tag":"bad/good"'), { what: "the good event after the bad one" });
    } finally {
      watcher.child.kill("SIGINT");
      await raw.close();
    }
  });

  it("replays stored events with --since", async () => {
    await runCli(["event", "send", "replay/one", '{"n":1}'], env);
    const watcher = startCli(["event", "watch", "replay/*", "--json", "--since", "1h"], env);
    try {
      await waitFor(() => watcher.out().includes('"tag":"replay/one"'), { what: "replayed event" });
    } finally {
      watcher.child.kill("SIGINT");
    }
  });

  it("rejects an invalid tag, bad data and an oversized event with a clear error and exit 1", async () => {
    const r1 = await runCli(["event", "send", "a\u0001b", "{}"], env);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /reactor: invalid tag "a\\u0001b": control character U\+0001 at position 1/);
    const r2 = await runCli(["event", "send", "t", "[1,2]"], env);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /DATA must be a JSON object/);
    const big = join(await mkdtemp(join(tmpdir(), "nr-big-")), "big.json");
    await writeFile(big, JSON.stringify({ s: "x".repeat(1024 * 1024) }));
    const r3 = await runCli(["event", "send", "t", `@${big}`], env);
    assert.equal(r3.code, 1);
    // 1 MiB of "x", the JSON around it and the _stamp Salt adds: {"s":"...","_stamp":"<24 chars>"}
    assert.match(r3.stderr, /event of 1048620 bytes is over the limit of 1048576 bytes/);
  });

  it("publishes a JSONL file, reporting bad lines by number", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nr-jsonl-"));
    const file = join(dir, "events.jsonl");
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ tag: `bulk/${i}`, data: { i } }));
    lines.splice(10, 0, "{not json");
    lines.splice(20, 0, JSON.stringify({ tag: "", data: {} }));
    await writeFile(file, lines.join("\n") + "\n");
    const r = await runCli(["event", "send", "--file", file, "--json"], env);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { sent: number }).sent, 500);
    assert.match(r.stderr, new RegExp(`${file}:11: .*JSON`));
    assert.match(r.stderr, new RegExp(`${file}:21: invalid tag "": a tag must not be empty`));
  });
});
