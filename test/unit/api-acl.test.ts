/** Salt's eauth ACL semantics (salt/utils/minions.py) as src/api/acl.ts implements them, and the config errors of the API keys. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { authCheck, fillAuthList, specCheck } from "../../src/api/index.js";
import { compileServiceConfig, type ApiConfig } from "../../src/config/index.js";
import { ConfigErrors } from "../../src/core/errors.js";
import { matchTargets } from "../../src/core/targeting/index.js";
import type { TargetType } from "../../src/core/index.js";

const FILE = "/etc/reactor/reactor.yaml";
const MINIONS = [
  { id: "web1", grains: { role: "web" } },
  { id: "app1", grains: { role: "app" } },
  { id: "app2", grains: { role: "app" } },
];
const resolve = (tgt: string | readonly string[], t: string) => matchTargets(tgt, t as TargetType, MINIONS);

function api(ea: Record<string, unknown>, extra = ""): ApiConfig {
  const text = `rest_cherrypy: {port: 8000, disable_ssl: true}\nexternal_auth: ${JSON.stringify(ea)}\n${extra}`;
  return compileServiceConfig(text, FILE).api!;
}
const messages = (text: string): string[] => {
  try {
    compileServiceConfig(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, String(err));
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected ConfigErrors");
};
const list = (c: ApiConfig, user: string, groups: string[] = []) =>
  fillAuthList(c.external_auth["pam"]!.acl, user, groups);
const local = (
  fun: string,
  tgt: string | string[],
  tgtType = "glob",
  arg: unknown[] = [],
  kwarg: Record<string, unknown> = {},
) => ({ fun, tgt, tgtType, arg, kwarg });

void describe("eauth ACLs (Salt's auth_check and spec_check)", () => {
  it("a bare regex allows the function on every target, matched as re.match (anchored at the start only)", () => {
    const l = list(api({ pam: { fred: ["test.*", "pkg.list"] } }), "fred");
    assert.equal(authCheck(l, local("test.ping", "*"), resolve), true);
    assert.equal(
      authCheck(l, local("pkg.list_pkgs", "*"), resolve),
      true,
      "re.match('pkg.list', 'pkg.list_pkgs') matches",
    );
    assert.equal(authCheck(l, local("cmd.run", "*"), resolve), false);
  });

  it("a target map allows its functions only when every targeted minion is inside the target", () => {
    const l = list(
      api({ pam: { fred: [{ "app*": ["test.*"] }, { "G@role:web": ["service.status"] }] } }),
      "fred",
    );
    assert.equal(authCheck(l, local("test.ping", "app*"), resolve), true);
    assert.equal(authCheck(l, local("test.ping", "app1,app2", "list"), resolve), true);
    assert.equal(authCheck(l, local("test.ping", "G@role:app", "compound"), resolve), true);
    assert.equal(authCheck(l, local("test.ping", "*"), resolve), false, "web1 is outside app*");
    assert.equal(authCheck(l, local("test.ping", ["app1", "web1"], "list"), resolve), false);
    assert.equal(authCheck(l, local("cmd.run", "app1"), resolve), false);
    assert.equal(
      authCheck(l, local("service.status", "web1"), resolve),
      true,
      "the target is read as a compound target",
    );
  });

  it("argument restrictions: args by position (null = any), kwargs by name", () => {
    const l = list(
      api({
        pam: { fred: [{ "*": [{ "cmd.run": { args: ["^ls( |$)", null], kwargs: { cwd: "/tmp" } } }] }] },
      }),
      "fred",
    );
    assert.equal(authCheck(l, local("cmd.run", "*", "glob", ["ls -l", "x"], { cwd: "/tmp" }), resolve), true);
    assert.equal(
      authCheck(l, local("cmd.run", "*", "glob", ["rm -rf /", "x"], { cwd: "/tmp" }), resolve),
      false,
    );
    assert.equal(
      authCheck(l, local("cmd.run", "*", "glob", ["ls"], { cwd: "/tmp" }), resolve),
      false,
      "a missing positional argument fails",
    );
    assert.equal(
      authCheck(l, local("cmd.run", "*", "glob", ["ls", "x"]), resolve),
      false,
      "a missing keyword fails",
    );
  });

  it("@runner, @wheel, @jobs and @<module> allow runner and wheel calls", () => {
    const c = api({
      pam: {
        fred: ["@runner"],
        wilma: ["@wheel"],
        barney: ["@jobs", { "@key": ["list_all"] }],
        betty: [".*"],
      },
    });
    assert.equal(specCheck(list(c, "fred"), "jobs.list_jobs", {}, "runner"), true);
    assert.equal(specCheck(list(c, "fred"), "key.list_all", {}, "wheel"), false);
    assert.equal(specCheck(list(c, "wilma"), "key.list_all", {}, "wheel"), true);
    assert.equal(specCheck(list(c, "barney"), "jobs.lookup_jid", {}, "runner"), true);
    assert.equal(specCheck(list(c, "barney"), "state.orchestrate", {}, "runner"), false);
    assert.equal(specCheck(list(c, "barney"), "key.list_all", {}, "wheel"), true);
    assert.equal(specCheck(list(c, "barney"), "key.delete", {}, "wheel"), false);
    assert.equal(
      specCheck(list(c, "betty"), "key.list_all", {}, "wheel"),
      false,
      "'.*' is for execution functions only, as in Salt",
    );
  });

  it("users by fnmatch or regex, groups with %, and * only when no name matched", () => {
    const c = api({ pam: { "dev-*": ["test.ping"], "admins%": ["cmd.run"], "*": ["grains.items"] } });
    assert.equal(authCheck(list(c, "dev-ann"), local("test.ping", "*"), resolve), true);
    assert.equal(
      authCheck(list(c, "dev-ann"), local("grains.items", "*"), resolve),
      false,
      "* does not apply to a named user",
    );
    assert.equal(authCheck(list(c, "zoe"), local("grains.items", "*"), resolve), true);
    assert.equal(authCheck(list(c, "zoe", ["admins"]), local("cmd.run", "*"), resolve), true);
    assert.equal(authCheck(list(c, "zoe", ["users"]), local("cmd.run", "*"), resolve), false);
  });
});

void describe("the API's config keys", () => {
  it("defaults are Salt's", () => {
    const c = api({ pam: { fred: [".*"] } });
    assert.equal(c.rest.host, "0.0.0.0");
    assert.equal(c.token_expire, 43200);
    assert.equal(c.keep_acl_in_token, true);
    assert.deepEqual(c.netapi_enable_clients, []);
    assert.equal(c.rest.webhook_url, "/hook");
    assert.equal(c.pam_service, "login");
  });

  it("errors name file, line and field", () => {
    const msgs = messages(
      [
        "rest_cherrypy: {port: 8000}",
        "netapi_enable_clients: [local, ssh]",
        "external_auth:",
        "  file: {'^filetype': htdigest, fred: ['.*']}",
        "  pam: {fred: ['test.(']}",
        "  ldap: {}", // ldap is known since the ldap back-end: an empty one lacks its bind settings
        "token_expire: soon",
      ].join("\n"),
    );
    assert.deepEqual(msgs, [
      `${FILE}:1: rest_cherrypy needs \`ssl_crt:\` and \`ssl_key:\`, or \`disable_ssl: true\` (as salt-api)`,
      `${FILE}:2: netapi_enable_clients[1] is not a client nats-reactor serves (known: local, local_async, local_batch, runner, runner_async, wheel, wheel_async)`,
      `${FILE}:7: token_expire must be a positive duration such as 30s, 10m, 2h, 7d or a number of seconds, got "soon"`,
      `${FILE}:4: external_auth.file needs \`^filename:\` (the password file)`,
      `${FILE}:4: external_auth.file needs \`^realm:\` with \`^filetype: htdigest\``,
      `${FILE}:5: external_auth.pam.fred[0] is not a valid regular expression: Invalid regular expression: /^(?:test.()/u: Unterminated group`,
      `${FILE}:6: external_auth.ldap needs \`auth.ldap.binddn:\` (the user's DN with {{ username }}, or a search account with \`auth.ldap.bindpw:\` and \`auth.ldap.filter:\`)`,
    ]);
  });
});
