/**
 * Issue 13 item 2, the targets: event data cannot widen a reaction's target. A compromised agent
 * (web1's key) sends events whose data carries `*` or `web,*` where a reaction puts data into `tgt`
 * or into the `match` of wheel.key.accept: no job reaches other agents, no pending key is accepted,
 * and the refusal is reported as reactor/security/target-widening. Controls with plain ids work.
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import type { Connection } from "../../src/bus/index.js";
import type { Signer } from "../../src/core/auth/index.js";
import type { ReactorEvent } from "../../src/core/index.js";
import type { Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { handshake, sendSigned, STACKS, waitAccepted, type AttackStack } from "./stacks.js";

const REACTOR_YAML = `keys:
  service_key: service.nk
  autosign: [ 'web*', 'db*' ]
reactor:
  - 'custom/run':
      - reactors/run.sls
  - 'custom/register':
      - reactors/register.sls`;
const FILES = {
  "reactors/run.sls": "run:\n  local.test.ping:\n    - tgt: {{ data['target'] }}\n",
  "reactors/register.sls": "accept:\n  wheel.key.accept:\n    - args:\n      - match: {{ data['host'] }}\n",
};

for (const { name, start } of STACKS) {
  describe(`targets from event data against ${name}`, () => {
    let stack: AttackStack;
    let conn: Connection;
    let web1: Signer;
    const agents: Proc[] = [];
    before(async () => {
      stack = await start({ reactorYaml: REACTOR_YAML, files: FILES, customEvents: ["custom/"] });
      for (const id of ["web1", "web2", "db1"]) agents.push(await stack.startAgent(id));
      for (const [i, id] of ["web1", "web2", "db1"].entries()) await waitAccepted(stack, id, agents[i]);
      conn = await stack.connect("web1");
      web1 = await stack.agentKey("web1");
    });
    after(() => stack.stop());

    const find = (pred: (e: ReactorEvent) => boolean, what: string) => waitFor(() => stack.events.find(pred), { what: `${what} (service: ${stack.serviceLog().slice(-1500)})`, timeoutMs: 30_000 });
    const widening = (ev: ReactorEvent) => find((e) => e.tag === "reactor/security/target-widening" && e.data["event_id"] === ev.id, `target-widening report of ${ev.id}`);
    const returnsFrom = (id: string) => stack.events.filter((e) => e.tag.startsWith("salt/job/") && e.tag.endsWith(`/ret/${id}`)).length;

    it("tgt: {{ data['target'] }} with * or web,* runs nothing on other agents; a plain id still works", async () => {
      for (const target of ["*", "web,*", "web*", "db[0-9]"]) {
        const ev = await sendSigned(conn, web1, "custom/run", { target }, "web1");
        const report = await widening(ev);
        assert.equal(report.data["source"], "web1");
        assert.match(JSON.stringify(report.data["refused"]), /run\.local\.test\.ping\.tgt .* refused: .* comes from event data/);
        assert.ok(!stack.events.some((e) => e.tag === `reactor/event/${ev.id}/dispatched`), `no dispatch for ${target}`);
      }
      const control = await sendSigned(conn, web1, "custom/run", { target: "web1" }, "web1");
      const dispatched = await find((e) => e.tag === `reactor/event/${control.id}/dispatched`, "the control's dispatch");
      assert.deepEqual(dispatched.data["targets"], ["web1"]);
      await find((e) => e.tag === `salt/job/${String(dispatched.data["jid"])}/ret/web1`, "web1's return of the control");
      assert.equal(returnsFrom("web2") + returnsFrom("db1"), 0, "no job ran on web2 or db1");
    });

    it("match: {{ data['host'] }} with * or web,* accepts no pending key; a plain id accepts only that key", async () => {
      for (const id of ["laptop1", "laptop2"]) assert.equal((await handshake(conn, id))["state"], "pending");
      for (const host of ["*", "web,*", "laptop?"]) {
        const ev = await sendSigned(conn, web1, "custom/register", { host }, "web1");
        const report = await widening(ev);
        assert.match(JSON.stringify(report.data["refused"]), /accept\.wheel\.key\.accept\.match .* \(key-glob\) refused/);
      }
      assert.deepEqual(((await stack.wheel("key.list", { match: "pre" })).return as Record<string, string[]>)["minions_pre"], ["laptop1", "laptop2"]);
      await sendSigned(conn, web1, "custom/register", { host: "laptop1" }, "web1");
      await find((e) => e.tag === "salt/key" && e.data["id"] === "laptop1" && e.data["act"] === "accept", "laptop1 accepted by the control");
      assert.deepEqual(((await stack.wheel("key.list", { match: "pre" })).return as Record<string, string[]>)["minions_pre"], ["laptop2"]);
    });
  });
}
