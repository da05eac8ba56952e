import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { agentGlobViolation, agentIdViolation, isAgentId, MAX_AGENT_ID_LENGTH } from "../../src/core/index.js";
import { namespaceViolation, parseAuthRequest } from "../../src/core/auth/index.js";
import { compileAgentConfig } from "../../src/config/index.js";
import { ConfigErrors } from "../../src/core/index.js";

const GOOD = ["web1", "web1.example.com", "db-2", "a_b", "A9", "x".repeat(MAX_AGENT_ID_LENGTH)];
const BAD = ["", "web*", "web,*", "web?", "web[1]", "*", "G@os:Debian", "web1 or db1", "a b", "a/b", "a:b", "a%2E", "web>", "-web", ".web", "..", "é", "a\tb", "x".repeat(MAX_AGENT_ID_LENGTH + 1), "L@web1", "(web1)", "web1!"];

describe("the agent id rule (src/core/agent-id.ts)", () => {
  it("accepts host names and FQDNs and refuses targeting, subject and shell syntax", () => {
    for (const id of GOOD) assert.equal(agentIdViolation(id), undefined, id);
    for (const id of BAD) assert.ok(!isAgentId(id), JSON.stringify(id));
    assert.equal(agentIdViolation("web*"), `id "web*" must be made of letters, digits, '.', '-' and '_', starting with a letter or a digit, at most 253 characters`);
  });

  it("is the rule of the handshake, agent.yaml and the namespace check", () => {
    for (const id of BAD) {
      assert.equal(typeof parseAuthRequest({ op: "hello", id, pub: "UX" }), "string", `handshake ${JSON.stringify(id)}`);
      assert.throws(() => compileAgentConfig(`id: ${JSON.stringify(id)}`, "agent.yaml"), ConfigErrors, `agent.yaml ${JSON.stringify(id)}`);
      assert.match(namespaceViolation("custom/x", id) ?? "", /^sender: /, `namespace ${JSON.stringify(id)}`);
    }
    for (const id of GOOD) assert.equal(typeof parseAuthRequest({ op: "hello", id, pub: "UX" }), "object", id);
    assert.throws(() => compileAgentConfig("", "agent.yaml", { hostname: "bad host" }), /id is not set and the host name "bad host" is not an agent id/);
    assert.throws(() => compileAgentConfig("id: web1", "agent.yaml", { overrides: { id: "web*" } }), ConfigErrors);
  });

  it("key command globs use id characters and glob syntax only", () => {
    for (const g of ["*", "web*", "web[0-9]", "web?.example.com", "[!d]*"]) assert.equal(agentGlobViolation(g), undefined, g);
    for (const g of ["", "web 1", "G@os:x", "a/b", "a\nb"]) assert.ok(agentGlobViolation(g), JSON.stringify(g));
  });
});
