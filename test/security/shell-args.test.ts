/**
 * Issue 13 item 5: event data in a cmd.run string becomes extra arguments (Salt's semantics, kept
 * for Salt files); `| quote` and a list `cmd` keep it one argument; `reactor validate` warns.
 */
import { strict as assert } from "node:assert";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Connection } from "../../src/bus/index.js";
import type { Signer } from "../../src/core/auth/index.js";
import type { ReactorEvent } from "../../src/core/index.js";
import { runCli } from "../helpers/cli.js";
import type { Proc } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";
import { sendSigned, STACKS, waitAccepted, type AttackStack } from "./stacks.js";

const head = "  local.cmd.run:\n    - tgt: {{ data['id'] }}\n    - args:\n";
const REACTOR_YAML = `keys:
  service_key: service.nk
  autosign: [ 'web1' ]
reactor:
  - 'custom/ls/plain':
      - reactors/ls.sls
  - 'custom/ls/quoted':
      - reactors/ls-quoted.sls
  - 'custom/ls/argv':
      - reactors/ls-argv.sls`;
const FILES = {
  "reactors/ls.sls": `ls:\n${head}      - cmd: ls -1 {{ data['dir'] }}\n`,
  "reactors/ls-quoted.sls": `ls:\n${head}      - cmd: ls -1 {{ data['dir'] | quote }}\n`,
  "reactors/ls-argv.sls": `ls:\n${head}      - cmd:\n        - ls\n        - -1\n        - {{ data['dir'] }}\n`,
};

for (const { name, start } of STACKS) {
  describe(`event data in commands against ${name}`, () => {
    let stack: AttackStack;
    let conn: Connection;
    let web1: Signer;
    let agent: Proc;
    let pub: string;
    let secret: string;
    let quoteDir: string;
    before(async () => {
      stack = await start({ reactorYaml: REACTOR_YAML, files: FILES, customEvents: ["custom/"] });
      pub = join(stack.dir, "pub");
      secret = join(stack.dir, "shadow");
      quoteDir = join(stack.dir, "it's");
      await mkdir(pub);
      await writeFile(join(pub, "public.txt"), "");
      await writeFile(secret, "root:x\n");
      await mkdir(quoteDir);
      await writeFile(join(quoteDir, "inside.txt"), "");
      agent = await stack.startAgent("web1");
      await waitAccepted(stack, "web1", agent);
      conn = await stack.connect("web1");
      web1 = await stack.agentKey("web1");
    });
    after(() => stack.stop());

    /** Sends the event and returns the job return of its one reaction. */
    async function run(kind: string, dir: string): Promise<{ return: string; retcode: number; success: boolean }> {
      const ev = await sendSigned(conn, web1, `custom/ls/${kind}`, { id: "web1", dir }, "web1");
      const find = (pred: (e: ReactorEvent) => boolean, what: string) => waitFor(() => stack.events.find(pred), { what: `${what} (agent: ${agent.err().slice(-800)}; service: ${stack.serviceLog().slice(-800)})`, timeoutMs: 30_000 });
      const d = await find((e) => e.tag === `reactor/event/${ev.id}/dispatched`, `dispatch of ${kind}`);
      const ret = await find((e) => e.tag === `salt/job/${String(d.data["jid"])}/ret/web1`, `return of ${kind}`);
      return ret.data as unknown as { return: string; retcode: number; success: boolean };
    }
    const lines = (s: string) => s.split("\n");

    it("without quote, a space in data adds an argument: the other file is listed (Salt's semantics)", async () => {
      const r = await run("plain", `${pub} ${secret}`);
      assert.ok(lines(r.return).includes(secret), r.return);
    });

    it("with | quote, or a list cmd, the value stays one argument", async () => {
      for (const kind of ["quoted", "argv"]) {
        const r = await run(kind, `${pub} ${secret}`);
        assert.ok(!lines(r.return).includes(secret), `${kind}: ${r.return}`);
        assert.notEqual(r.retcode, 0, `${kind}: ls of a path that does not exist`);
      }
    });

    it("a quote in data fails the unquoted job; | quote and a list cmd list the directory", async () => {
      const plain = await run("plain", quoteDir);
      assert.equal(plain.success, false);
      assert.match(plain.return, /unterminated single quote/);
      for (const kind of ["quoted", "argv"]) {
        const r = await run(kind, quoteDir);
        assert.equal(r.retcode, 0, `${kind}: ${r.return}`);
        assert.deepEqual(lines(r.return), ["inside.txt"], kind);
      }
    });

    it("reactor validate warns at file:line for the unquoted file only", async () => {
      const r = await runCli(["validate", "-c", join(stack.dir, "reactor.yaml")], stack.env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const warnings = lines(r.stdout).filter((l) => l.includes("without | quote"));
      assert.equal(warnings.length, 1, r.stdout);
      assert.match(warnings[0]!, /^warning: reactors\/ls\.sls:5: event data \{\{ data\['dir'\] \}\} is interpolated into the cmd\.run command without \| quote/);
    });
  });
}
