/**
 * Property-based tests of the live engine (its ports in memory: this is the engine's logic, the bus
 * is covered by the integration tests): thousands of generated events, hostile data included,
 * never crash it, never make it act on an event it refuses, and never change the set of reactions
 * an SLS produces.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { memoryKv } from "../helpers/memory-kv.js";
import { compileServiceConfig } from "../../src/config/index.js";
import { createEvent, type JobRequest, type ReactorEvent } from "../../src/core/index.js";
import { engineConfig, ReactionLedger, ReactorEngine, Throttler, type DispatchPorts } from "../../src/reactor/index.js";

const MAP = `
reactor:
  - 'fuzz/*':
      - ${JSON.stringify("<SLS1>")}
  - tag: 'fuzz/**'
    glob: path
    when: { "in": [ "x", { "var": "data.list" } ] }
    sls: ${JSON.stringify("<SLS2>")}
`;

describe("engine fuzz", async () => {
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "nr-fuzz-"));
  await writeFile(
    join(dir, "one.sls"),
    [
      "react_{{ data.get('name', 'x') | string | replace(' ', '_') | length }}:",
      "  local.test.echo:",
      "    - tgt: {{ data.get('target', 'web1') }}",
      "    - arg:",
      "      - {{ data.get('text', '') }}",
      "      - {{ data | json }}",
      "{% if data.get('flag') == True %}",
      "second:",
      "  runner.event.send:",
      "    - tag: fuzz/caused",
      "    - data: { v: {{ data.get('text', '') | json }} }",
      "{% endif %}",
      "",
    ].join("\n"),
  );
  await writeFile(join(dir, "two.sls"), "two:\n  local.test.ping:\n    - tgt: '{{ data.get(\"target\", \"web1\") }}'\n");
  const yaml = MAP.replace('"<SLS1>"', "one.sls").replace('"<SLS2>"', "two.sls");
  const config = compileServiceConfig(yaml, join(dir, "reactor.yaml"));

  const jsonValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.constantFrom("a: b", "- x", "{{ 7*7 }}", "{% for %}", "# c", "'\"", "\n- evil: true\n", "__proto__", "constructor"),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "prototype", "toString")), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
  const dataArb = fc.record(
    {
      name: jsonValue,
      target: fc.oneof(fc.constant("web1"), fc.string()),
      text: jsonValue,
      flag: fc.oneof(fc.boolean(), jsonValue),
      list: fc.oneof(fc.constant(["x"]), fc.array(fc.string(), { maxLength: 3 })),
      extra: jsonValue,
    },
    { requiredKeys: [] },
  );
  const tagArb = fc.oneof(fc.constantFrom("fuzz/a", "fuzz/b/c", "other/x", "fuzz/"), fc.string({ minLength: 1 }).map((s) => `fuzz/${s.replace(/[\u0000-\u001f\u007f\ud800-\udfff]/g, "_")}`));

  function setup(refuse: (e: ReactorEvent) => boolean) {
    const jobs: { agent: string; job: JobRequest }[] = [];
    const emitted: string[] = [];
    const ports: DispatchPorts = {
      resolveTargets: async (tgt) => (tgt === "web1" ? ["web1"] : []),
      publishJob: async (agent, job) => void jobs.push({ agent, job }),
      emit: async (tag) => void emitted.push(tag),
      runners: { "event.send": async () => true },
      wheel: {},
    };
    const engine = new ReactorEngine(engineConfig(config), {
      ledger: new ReactionLedger(memoryKv()),
      throttler: new Throttler(memoryKv()),
      ports,
      audit: async (tag) => void emitted.push(tag),
      verify: (e) => (refuse(e) ? { ok: false, reason: "refused by the test" } : { ok: true }),
    });
    return { engine, jobs, emitted };
  }

  it("never throws and never changes the shape of the reactions (2,000 generated events)", async () => {
    let withJobs = 0;
    let echoes = 0;
    await fc.assert(
      fc.asyncProperty(tagArb, dataArb, async (tag, data) => {
        const { engine, jobs } = setup(() => false);
        const event = createEvent({ tag, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> });
        await engine.handle(event);
        if (jobs.length > 0) withJobs++;
        for (const { job } of jobs) {
          if (job.fun === "test.echo") echoes++;
          assert.ok(["test.echo", "test.ping"].includes(job.fun), job.fun);
          if (job.fun === "test.echo") {
            assert.equal(job.arg.length, 2, "data cannot add or remove arguments");
            const text = (data as { text?: unknown }).text ?? "";
            if (typeof text === "string") {
              // a string stays that string (trimmed, as YAML trims a plain scalar), or becomes the
              // scalar Salt's YAML reads from it ("yes", "0644", "~"): never a list or a map
              const got = job.arg[0];
              if (typeof got === "string") assert.ok(got === text || got === text.replace(/^ +| +$/g, ""), "a string stays that string");
              else assert.ok(got === null || typeof got === "number" || typeof got === "boolean", `a string becomes at most a scalar, got ${JSON.stringify(got)}`);
            }
          }
        }
        assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
        assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "evil"), false);
      }),
      { numRuns: 2000 },
    );
    // the property must have been exercised, not passed vacuously
    assert.ok(withJobs > 500, `only ${withJobs} events produced jobs`);
    assert.ok(echoes > 500, `only ${echoes} echo jobs`);
  });

  it("never dispatches anything for an event it refuses (1,000 generated events)", async () => {
    await fc.assert(
      fc.asyncProperty(tagArb, dataArb, async (tag, data) => {
        const { engine, jobs, emitted } = setup(() => true);
        await engine.handle(createEvent({ tag, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> }));
        assert.deepEqual(jobs, []);
        assert.ok(emitted.every((t) => t === "reactor/security/rejected"), emitted.join(", "));
      }),
      { numRuns: 1000 },
    );
  });
});
