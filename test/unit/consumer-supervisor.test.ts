/**
 * The service's consumer supervisor, with in-process streams standing in for the consume
 * iterator (the real thing is exercised by the fault tests on a 3-node cluster): a stream that
 * delivers nothing while events wait is reopened; a loop busy with its events is not.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { ConsumerSupervisor } from "../../src/apps/consumer-supervisor.js";
import type { EventDelivery, EventStream } from "../../src/bus/index.js";
import { silentLogger } from "../../src/core/index.js";
import { waitFor } from "../helpers/wait.js";

/** A stream that yields `items`, then waits until stopped (as a stalled pull does). */
function stream(items: number[]): EventStream & { stopped: boolean } {
  let wake: (() => void) | undefined;
  const s = {
    stopped: false,
    async *[Symbol.asyncIterator]() {
      for (const i of items) yield { seq: i } as unknown as EventDelivery;
      while (!s.stopped) await new Promise<void>((r) => (wake = r));
    },
    stop: async () => {
      s.stopped = true;
      wake?.();
    },
  };
  return s;
}

describe("consumer supervisor", () => {
  it("reopens a stream that delivers nothing while the server says events wait", async () => {
    const opened: ReturnType<typeof stream>[] = [stream([1]), stream([2, 3])];
    let n = 0;
    let waiting = 2;
    const seen: number[] = [];
    const sup = new ConsumerSupervisor(async () => opened[Math.min(n++, opened.length - 1)]!, silentLogger, async () => waiting, 100);
    const run = sup.run(async (s) => {
      for await (const d of s) {
        seen.push(d.seq);
        if (seen.length === 3) waiting = 0;
      }
    });
    await waitFor(() => seen.length === 3, { what: "the events of the reopened stream", timeoutMs: 5000 });
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(opened[0]!.stopped, true, "the stalled stream was closed");
    assert.equal(n, 2, "opened twice");
    await sup.stop();
    await run;
  });

  it("leaves alone a quiet stream when nothing waits, and a loop busy longer than the stall time", async () => {
    const s = stream([1]);
    let opens = 0;
    let probes = 0;
    let waiting = 0;
    const sup = new ConsumerSupervisor(async () => (opens++, s), silentLogger, async () => (probes++, waiting), 100);
    let release: (() => void) | undefined;
    const run = sup.run(async (st) => {
      for await (const _d of st) {
        waiting = 5; // events wait, but the loop is busy with this one
        await new Promise<void>((r) => (release = r));
        waiting = 0;
      }
    });
    await waitFor(() => release !== undefined);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(s.stopped, false, "a busy loop is not a stall");
    release!();
    await waitFor(() => probes > 0, { what: "a probe while the stream is quiet" });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.stopped, false, "nothing waits: not a stall");
    assert.equal(opens, 1);
    await sup.stop();
    await run;
  });
});
