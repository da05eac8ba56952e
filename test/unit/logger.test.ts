/** Log lines read back as written: every key once, nested components joined, the log call's value winning. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createLogger, mergeBindings } from "../../src/apps/logger.js";
import { logLines, repeatedKeys } from "../helpers/log-lines.js";
import { waitFor } from "../helpers/wait.js";

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (b: Buffer) => (text += b.toString()));
  return { stream, text: () => text };
}

void describe("logger", () => {
  void it("the duplicate-key reader finds a repeated key (so the checks below can fail)", () => {
    assert.deepEqual(repeatedKeys('{"a":1,"b":{"a":2,"c":[{"d":1,"d":2}]},"a":3}'), ["d", "a"]);
    assert.deepEqual(repeatedKeys('{"a":"x,\\"a\\":","b":[1,"a"]}'), []);
  });

  void it("child loggers as the service and agent chain them write each key once", async () => {
    const out = capture();
    const root = createLogger({ base: { app: "reactor-up" }, destination: out.stream, level: "debug" });
    const keys = root.child({ component: "service" }).child({ component: "keys" }).child({ component: "keys" });
    keys.info({ id: "demo1", act: "accept" }, "auth attempt");
    root.info({ url: "nats://x", pid: 1234 }, "nats-server started");
    root.child({ component: "agent" }).child({ agent: "demo1" }).child({ component: "beacons" }).child({ component: "beacons" }).warn({ agent: "demo1", component: "x" }, "probe failed");
    const lines = await waitFor(() => (logLines(out.text()).length === 3 ? logLines(out.text()) : undefined), { what: "three log lines" });
    for (const l of lines) assert.deepEqual(repeatedKeys(l), [], l);
    const [auth, started, probe] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual([auth!["component"], auth!["app"], auth!["pid"], auth!["msg"]], ["service/keys", "reactor-up", process.pid, "auth attempt"]);
    assert.equal(started!["pid"], 1234, "the log call's value wins over the binding");
    assert.deepEqual([probe!["component"], probe!["agent"]], ["x", "demo1"]);
  });

  void it("merges bindings: nested components joined once, other keys replaced", () => {
    assert.deepEqual(mergeBindings({ component: "service", pid: 1 }, { component: "keys" }), { component: "service/keys", pid: 1 });
    assert.deepEqual(mergeBindings({ component: "service/keys" }, { component: "keys" }), { component: "service/keys" });
    assert.deepEqual(mergeBindings({ agent: "a" }, { agent: "b", component: "mine" }), { agent: "b", component: "mine" });
  });
});
