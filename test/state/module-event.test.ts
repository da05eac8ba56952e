/** module.run (both syntaxes) and event.send with the agent's real execution functions. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { builtinStateModules } from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const mods = builtinStateModules();
const run = mods.get("module")!.functions.run!;
const send = mods.get("event")!.functions.send!;

void describe("module.run", () => {
  it("runs functions in the new syntax with positional and keyword arguments", async () => {
    const { ctx, with: w } = makeStateContext();
    const r = await run({ name: "x", "test.echo": ["hello"], "test.arg": ["a", { k: "v" }] }, ctx);
    assert.equal(r.result, true, r.comment);
    assert.equal(r.changes["test.echo"], "hello");
    assert.deepEqual((r.changes["test.arg"] as { kwargs: Record<string, unknown> }).kwargs.k, "v");
    const dry = await run({ name: "x", "test.echo": ["hello"] }, w({ test: true }));
    assert.deepEqual([dry.result, dry.comment], [null, "Function test.echo to be executed."]);
    const missing = await run({ name: "x", "nope.nothing": [] }, ctx);
    assert.deepEqual([missing.result, missing.comment], [false, "Unavailable function: nope.nothing."]);
  });

  it("runs the legacy syntax (name is the function, the other keys its arguments)", async () => {
    const { ctx } = makeStateContext();
    const r = await run({ name: "test.echo", text: "legacy" }, ctx);
    assert.deepEqual(
      [r.result, r.changes, r.comment],
      [true, { ret: "legacy" }, "Module function test.echo executed"],
    );
    const failing = await run({ name: "test.echo", text: false }, ctx);
    assert.equal(failing.result, false);
    const missing = await run({ name: "nope.nothing" }, ctx);
    assert.deepEqual(
      [missing.result, missing.comment],
      [false, "Module function nope.nothing is not available"],
    );
  });
});

void describe("event.send", () => {
  it("sends the event, and only says it would in test mode", async () => {
    const t = makeStateContext();
    const r = await send({ name: "myco/deployed", data: { v: 2 } }, t.ctx);
    assert.deepEqual([r.result, r.changes], [true, { tag: "myco/deployed", data: { v: 2 } }]);
    assert.deepEqual(t.events, [{ tag: "myco/deployed", data: { v: 2 } }]);
    await send({ name: "myco/x", data: {} }, t.with({ test: true }));
    assert.equal(t.events.length, 1);
  });
});

void describe("execution functions states and templates call", () => {
  it("file.file_exists, directory_exists, get_hash, config.get and pillar.get", async () => {
    const { ctx } = makeStateContext({ agentYaml: `id: cfg1\nstate_dir: /tmp/cfg1-state-${process.pid}\ngrains:\n  role: web\n  deep: { a: { b: 3 } }\n` });
    assert.equal(await ctx.exec("file.file_exists", ["/etc/passwd"]), true);
    assert.equal(await ctx.exec("file.file_exists", ["/etc"]), false);
    assert.equal(await ctx.exec("file.directory_exists", ["/etc"]), true);
    assert.match(String(await ctx.exec("file.get_hash", ["/etc/hostname"], { form: "md5" })), /^[0-9a-f]{32}$/);
    assert.equal(await ctx.exec("config.get", ["id"]), "cfg1", "agent options first");
    assert.equal(await ctx.exec("config.get", ["deep:a:b"]), 3, "then grains, nested with ':'");
    assert.equal(await ctx.exec("config.get", ["nope"], { default: "d" }), "d");
    assert.equal(await ctx.exec("pillar.get", ["x:y"], { default: 5 }), 5);
  });
});
