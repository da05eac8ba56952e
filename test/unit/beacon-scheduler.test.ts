import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { createBeaconScheduler, definePlugin, beaconRegistry, type BeaconSpec, type BeaconEvent } from "../../src/beacons/index.js";
import { RecordingSink } from "../fixtures/beacons/sink.js";
import { waitFor } from "../helpers/wait.js";

/** A test beacon whose polls are scripted: each poll takes the next behaviour. */
function scripted() {
  const state = { polls: 0, behaviour: "ok" as "ok" | "throw" | "hang", stopped: 0 };
  const plugin = definePlugin({
    type: "scripted",
    parse: () => ({}),
    create: () => ({
      async poll(): Promise<BeaconEvent[]> {
        state.polls++;
        if (state.behaviour === "throw") throw new Error("probe exploded");
        if (state.behaviour === "hang") return new Promise(() => undefined);
        return [{ suffix: "tick", data: { n: state.polls } }];
      },
      stop() {
        state.stopped++;
      },
    }),
  });
  return { state, registry: beaconRegistry([plugin]) };
}

function spec(name: string, over: Partial<BeaconSpec> = {}): BeaconSpec {
  return { name, type: "scripted", intervalMs: 20, timeoutMs: 200, enabled: true, runOnce: false, disableDuringStateRun: false, config: {}, raw: {}, ...over };
}

void describe("beacon scheduler", () => {
  void it("fires with Salt's tag and adds id to the data", async () => {
    const { registry } = scripted();
    const sink = new RecordingSink();
    const s = createBeaconScheduler({ agentId: "web1", beacons: [spec("probe")], sink, registry });
    await waitFor(() => sink.events.length >= 2);
    await s.stop();
    assert.equal(sink.events[0]!.tag, "salt/beacon/web1/probe/tick");
    assert.equal(sink.events[0]!.data["id"], "web1");
    assert.equal(sink.events[0]!.data["n"], 1);
  });

  void it("reports a failing beacon once per state change, and its recovery once", async () => {
    const { state, registry } = scripted();
    state.behaviour = "throw";
    const sink = new RecordingSink();
    const s = createBeaconScheduler({ agentId: "web1", beacons: [spec("probe")], sink, registry });
    await waitFor(() => state.polls >= 5, { what: "five failing polls" });
    assert.deepEqual(sink.events.map((e) => e.tag), ["salt/beacon/web1/probe/error"]);
    assert.equal(sink.events[0]!.data["error"], "probe exploded");
    assert.equal(s.list()[0]!.failing, "probe exploded");
    state.behaviour = "ok";
    await waitFor(() => sink.tagged("salt/beacon/web1/probe/tick").length >= 3);
    state.behaviour = "throw";
    const at = state.polls;
    await waitFor(() => state.polls >= at + 4);
    await s.stop();
    const control = sink.events.map((e) => e.tag).filter((t) => !t.endsWith("/tick"));
    assert.deepEqual(control, ["salt/beacon/web1/probe/error", "salt/beacon/web1/probe/recovered", "salt/beacon/web1/probe/error"]);
    assert.equal(s.list()[0]!.failing, "probe exploded");
  });

  void it("a hanging probe times out once and never blocks another beacon", async () => {
    const hung = scripted();
    hung.state.behaviour = "hang";
    const other = scripted();
    const registry = beaconRegistry([
      { ...hung.registry.get("scripted")!, type: "hung" },
      { ...other.registry.get("scripted")!, type: "fine" },
    ]);
    const sink = new RecordingSink();
    const s = createBeaconScheduler({
      agentId: "h",
      beacons: [spec("slow", { type: "hung", timeoutMs: 50 }), spec("fast", { type: "fine" })],
      sink,
      registry,
    });
    await waitFor(() => sink.tagged("salt/beacon/h/slow/error").length === 1 && sink.tagged("salt/beacon/h/fast/tick").length >= 5);
    await s.stop();
    assert.equal(hung.state.polls, 1, "no second poll while the first hangs");
    assert.equal(sink.tagged("salt/beacon/h/slow/error")[0]!.data["error"], "poll did not finish within 50 ms");
  });

  void it("run_once polls once and disables; disable_during_state_run skips while busy", async () => {
    const once = scripted();
    const sink = new RecordingSink();
    const s = createBeaconScheduler({ agentId: "a", beacons: [spec("once", { runOnce: true })], sink, registry: once.registry });
    await waitFor(() => s.list()[0]!.enabled === false);
    await s.stop();
    assert.equal(once.state.polls, 1);
    assert.deepEqual(sink.events.map((e) => e.tag), ["salt/beacon/a/once/tick"]);

    const busy = scripted();
    let isBusy = true;
    const sink2 = new RecordingSink();
    const s2 = createBeaconScheduler({ agentId: "a", beacons: [spec("b", { disableDuringStateRun: true })], sink: sink2, registry: busy.registry, deps: { isBusy: () => isBusy } });
    const witness = scripted(); // proves that several intervals passed while the busy beacon stayed silent
    const s3 = createBeaconScheduler({ agentId: "a", beacons: [spec("witness")], sink: new RecordingSink(), registry: witness.registry });
    await waitFor(() => witness.state.polls >= 5);
    assert.equal(busy.state.polls, 0);
    assert.equal(sink2.events.length, 0);
    isBusy = false;
    await waitFor(() => sink2.events.length >= 1);
    await Promise.all([s2.stop(), s3.stop()]);
  });

  void it("add, modify, disable, enable and delete at run time; stop() is idempotent", async () => {
    const { state, registry } = scripted();
    const sink = new RecordingSink();
    const s = createBeaconScheduler({ agentId: "a", beacons: [], sink, registry });
    await s.add(spec("x"));
    await assert.rejects(s.add(spec("x")), { name: "BeaconNotFoundError", message: 'beacon "x" already exists' });
    await waitFor(() => sink.events.length >= 1);
    await s.disable("x");
    assert.deepEqual(s.list().map((b) => [b.name, b.enabled]), [["x", false]]);
    assert.equal(state.stopped, 1);
    await s.modify(spec("x", { intervalMs: 1000 }));
    assert.equal(s.list()[0]!.interval, 1);
    await s.enable("x");
    await s.delete("x");
    assert.deepEqual(s.list(), []);
    await assert.rejects(s.delete("x"), { name: "BeaconNotFoundError", message: 'beacon "x" is not configured' });
    await s.add(spec("y"));
    const first = s.stop();
    assert.equal(s.stop(), first);
    await first;
    const n = sink.events.length;
    const polls = state.polls;
    const witness = scripted();
    const w = createBeaconScheduler({ agentId: "w", beacons: [spec("w")], sink: new RecordingSink(), registry: witness.registry });
    await waitFor(() => witness.state.polls >= 5);
    await w.stop();
    assert.equal(sink.events.length, n, "no events after stop");
    assert.equal(state.polls, polls, "no polls after stop");
  });
});
