/**
 * state.* end to end on this host: SLS files and a top file in temp file_roots, the real
 * compiler (render, compile, top), the runner, the outputter.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  formatHighstate,
  localFileClient,
  stateCompiler,
  stateExecModule,
  type LowChunk,
  type StateJob,
  type StateResult,
} from "../../src/state/index.js";
import { makeStateContext } from "../helpers/state-context.js";

const root = mkdtempSync(join(tmpdir(), "state-apply-"));
after(() => rmSync(root, { recursive: true, force: true }));

function file(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

file("top.sls", "base:\n  'web*':\n    - web\n  'db*':\n    - db\n");
file(
  "web/init.sls",
  [
    "include:",
    "  - web.config",
    "nginx:",
    "  test.succeed_without_changes:",
    "    - watch:",
    "      - test: web-config",
    "reload:",
    "  test.succeed_with_changes:",
    "    - onchanges:",
    "      - test: nginx",
    "marker:",
    "  test.succeed_with_changes:",
    "    - unless: test -f {{ grains['marker'] }}",
    "",
  ].join("\n"),
);
file("web/config.sls", "web-config:\n  test.succeed_with_changes:\n    - name: /etc/nginx/nginx.conf\n");
file("db.sls", "db:\n  test.fail_without_changes:\n    - comment: no database here\n");
file("broken.sls", "x:\n  test.nop:\n    - require: [\n");

function agent(id: string) {
  const { ctx } = makeStateContext({ id });
  const fns = stateExecModule({
    ...ctx,
    id,
    files: localFileClient({ base: [root] }),
    grains: () => Promise.resolve({ id, marker: join(root, "top.sls") }),
    pillar: () => Promise.resolve({}),
    compiler: stateCompiler,
  });
  let n = 0;
  return async (fun: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => {
    let retcode = 0;
    const job: StateJob = {
      jid: `2026120506000000000${n++}`,
      fun,
      signal: new AbortController().signal,
      setRetcode: (c) => void (retcode = c),
    };
    return { value: await fns[fun]!(args, kwargs, job), retcode };
  };
}

const summary = (v: unknown) =>
  Object.values(v as Record<string, StateResult>)
    .sort((a, b) => a.__run_num__ - b.__run_num__)
    .map((r) => `${r.__id__}:${String(r.result)}:${r.comment}`);

describe("state.apply end to end (real compiler)", () => {
  it("the highstate of web1: include, watch (mod_watch), onchanges and unless with real SLS files", async () => {
    const call = agent("web1");
    const r = await call("state.apply");
    assert.equal(r.retcode, 0);
    assert.deepEqual(summary(r.value), [
      "web-config:true:Success!",
      "nginx:true:Watch statement fired.",
      // test.mod_watch reports "Requisites with changes", so nginx changed and reload runs.
      "reload:true:Success!",
      "marker:true:unless condition is true",
    ]);
    const text = formatHighstate("web1", r.value);
    assert.match(
      text,
      /^web1:\n----------\n {10}ID: web-config\n {4}Function: test\.succeed_with_changes\n {8}Name: \/etc\/nginx\/nginx\.conf\n/,
    );
    assert.match(text, /\nSucceeded: 4 \(changed=3\)\nFailed:    0\n/);
  });

  it("db1's highstate fails a state: retcode 2; test=True changes the result of changes to None", async () => {
    const call = agent("db1");
    const r = await call("state.highstate");
    assert.equal(r.retcode, 2);
    assert.deepEqual(summary(r.value), ["db:false:no database here"]);
    const t = await agent("web1")("state.apply", ["web.config"], { test: true });
    assert.deepEqual(summary(t.value), [
      "web-config:null:If we weren't testing, this would be successful with changes",
    ]);
  });

  it("render errors come back as Salt's list with retcode 1; show_lowstate shows the compiled chunks", async () => {
    const call = agent("web1");
    const missing = await call("state.sls", ["nope"]);
    assert.deepEqual(
      [missing.value, missing.retcode],
      [["No matching sls found for 'nope' in env 'base'"], 1],
    );
    const broken = await call("state.sls", ["broken"]);
    assert.equal(broken.retcode, 1);
    assert.ok(
      Array.isArray(broken.value) && (broken.value as string[])[0]!.includes("broken.sls"),
      String(broken.value),
    );
    const low = (await call("state.show_lowstate")).value as LowChunk[];
    assert.deepEqual(
      low.map((c) => c.__id__),
      ["web-config", "nginx", "reload", "marker"],
    );
  });

  it("an agent that no top entry matches gets Salt's 'No Top file' result", async () => {
    const r = await agent("mail1")("state.apply");
    assert.equal(r.retcode, 2);
    assert.deepEqual(Object.keys(r.value as object), ["no_|-states_|-states_|-None"]);
  });

  it("show_states, sls_exists and id_exists answer as Salt", async () => {
    const call = agent("web1");
    assert.deepEqual((await call("state.show_states")).value, ["web.config", "web"]);
    assert.equal((await call("state.sls_exists", ["web"])).value, true);
    assert.equal((await call("state.sls_exists", ["nope"])).value, false);
    assert.equal((await call("state.id_exists", ["nginx,reload", "web"])).value, true);
    assert.equal((await call("state.id_exists", ["nginx,db", "web"])).value, false);
  });

  it("state.sls_id runs one ID and what it requires, nothing else; an unknown ID fails the job", async () => {
    const call = agent("web1");
    const r = await call("state.sls_id", ["nginx", "web"]);
    assert.deepEqual(summary(r.value), ["web-config:true:Success!", "nginx:true:Watch statement fired."]);
    await assert.rejects(
      call("state.sls_id", ["ghost", "web"]),
      /No matches for ID 'ghost' found in SLS 'web' within saltenv 'base'/,
    );
  });
});
