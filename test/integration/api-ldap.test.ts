/**
 * The `ldap` eauth back-end against a real OpenLDAP slapd (test/helpers/slapd.ts) on loopback, through
 * the API's HTTP layer (the service side is in-memory ports, as in test/unit/api-http.test.ts: the
 * thing under test is the login). Both of Salt's ways to find the user's DN (a search account with
 * `auth.ldap.filter`, and `auth.ldap.binddn` with `{{ username }}`), `group%` ACLs from posixGroup
 * entries, wrong passwords 401, filter injection in the user name, and a directory that is down.
 */
import { strict as assert } from "node:assert";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  Authenticator,
  startApiServer,
  type ApiPorts,
  type ApiServer,
  type EventFeed,
} from "../../src/api/index.js";
import { compileServiceConfig } from "../../src/config/index.js";
import { matchTargets } from "../../src/core/targeting/index.js";
import type { TargetType } from "../../src/core/index.js";
import { freePort } from "../helpers/nats-server.js";
import { HAVE_SLAPD, ldapHash, startSlapd, type Slapd } from "../helpers/slapd.js";

const SUFFIX = "dc=reactor,dc=test";
const MINIONS = [
  { id: "web1", grains: {} },
  { id: "app1", grains: {} },
];
const PW = { alice: "alice-Pw-1", bob: "bob-Pw-2", carol: "carol-Pw-3", reader: "reader-Pw-4" };

const ldif = () => `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: reactor
o: reactor test

dn: ou=People,${SUFFIX}
objectClass: organizationalUnit
ou: People

dn: ou=Groups,${SUFFIX}
objectClass: organizationalUnit
ou: Groups

dn: ou=Services,${SUFFIX}
objectClass: organizationalUnit
ou: Services

dn: cn=reader,ou=Services,${SUFFIX}
objectClass: person
cn: reader
sn: reader
userPassword: ${ldapHash(PW.reader)}
${(["alice", "bob", "carol"] as const)
  .map(
    (u) => `
dn: uid=${u},ou=People,${SUFFIX}
objectClass: inetOrgPerson
uid: ${u}
cn: ${u}
sn: ${u}
userPassword: ${ldapHash(PW[u])}
`,
  )
  .join("")}
dn: cn=ops,ou=Groups,${SUFFIX}
objectClass: posixGroup
cn: ops
gidNumber: 5001
memberUid: alice
memberUid: carol

dn: cn=devs,ou=Groups,${SUFFIX}
objectClass: posixGroup
cn: devs
gidNumber: 5002
memberUid: bob
`;

function idleFeed(): EventFeed {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  return {
    stop: async () => stop(),
    async *[Symbol.asyncIterator]() {
      await stopped;
    },
  };
}

const ports = (published: string[]): ApiPorts => ({
  resolve: (tgt, t) => matchTargets(tgt, t as TargetType, MINIONS),
  runLocal: async (c) => {
    published.push(`${c.user} ${c.fun}`);
    const targets = matchTargets(c.tgt, c.tgtType as TargetType, MINIONS);
    return {
      jid: "20260101000000000000",
      targets,
      returns: Object.fromEntries(targets.map((t) => [t, { return: true, retcode: 0, success: true }])),
    };
  },
  startLocal: async () => ({ jid: "20260101000000000001", targets: [] }),
  callService: async (_k, fun) => ({ jid: "20260101000000000002", return: `ran ${fun}`, success: true }),
  audit: async () => undefined,
  watch: async () => idleFeed(),
});

// `*` lists every directory user: a user name that matched another's entry would log in
const ACL = { "ops%": [".*", "@runner"], bob: [{ "app*": ["test.*"] }], "*": ["test.version"] };

async function apiConfig(ldap: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), "nr-apildap-"));
  const text = JSON.stringify({
    rest_cherrypy: { host: "127.0.0.1", port: 0, disable_ssl: true, auth_rate_per_minute: 1000 },
    netapi_enable_clients: ["local", "runner"],
    external_auth: { ldap: ACL },
    ...Object.fromEntries(Object.entries(ldap).map(([k, v]) => [`auth.ldap.${k}`, v])),
  });
  return compileServiceConfig(text, join(dir, "reactor.yaml")).api!;
}

void describe(
  "ldap eauth against a real slapd",
  { skip: HAVE_SLAPD ? false : "slapd is not installed (.ci/run installs it)" },
  () => {
    let slapd: Slapd;
    let searchApi: ApiServer; // search account + filter
    let bindApi: ApiServer; // binddn template
    const published: string[] = [];

    before(async () => {
      slapd = await startSlapd(SUFFIX, ldif());
      const common = { server: "127.0.0.1", port: slapd.port, basedn: SUFFIX };
      const search = await apiConfig({
        ...common,
        binddn: `cn=reader,ou=Services,${SUFFIX}`,
        bindpw: PW.reader,
        filter: "(uid={{ username }})",
      });
      searchApi = await startApiServer(search, ports(published));
      const bind = await apiConfig({
        uri: slapd.url,
        basedn: SUFFIX,
        binddn: `uid={{username}},ou=People,${SUFFIX}`,
      });
      bindApi = await startApiServer(bind, ports(published));
    });
    after(async () => {
      await searchApi?.stop();
      await bindApi?.stop();
      await slapd?.stop();
    });

    const post = (api: ApiServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${api.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const login = (api: ApiServer, username: string, password: string) =>
      post(api, "/login", { username, password, eauth: "ldap" });
    const tokenOf = async (r: Response) => {
      assert.equal(r.status, 200);
      return ((await r.json()) as { return: { token: string; perms: unknown }[] }).return[0]!;
    };

    for (const mode of ["search", "bind"] as const) {
      const api = () => (mode === "search" ? searchApi : bindApi);

      it(`${mode}: a member of ops% logs in, gets the group's ACL and may run anything`, async () => {
        const t = await tokenOf(await login(api(), "alice", PW.alice));
        assert.deepEqual(t.perms, [".*", "@runner", "test.version"]);
        const r = await post(api(), "/", [{ client: "local", tgt: "*", fun: "test.ping" }], {
          "x-auth-token": t.token,
        });
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), { return: [{ web1: true, app1: true }] });
        assert.ok(published.includes("alice test.ping"));
        // carol is listed only through the group
        await tokenOf(await login(api(), "carol", PW.carol));
      });

      it(`${mode}: a user listed by name gets only his ACL (another target is 403)`, async () => {
        const t = await tokenOf(await login(api(), "bob", PW.bob));
        assert.deepEqual(t.perms, [{ "app*": ["test.*"] }]);
        const ok = await post(api(), "/", [{ client: "local", tgt: "app1", fun: "test.ping" }], {
          "x-auth-token": t.token,
        });
        assert.equal(ok.status, 200);
        const no = await post(api(), "/", [{ client: "local", tgt: "*", fun: "test.ping" }], {
          "x-auth-token": t.token,
        });
        assert.equal(no.status, 403);
      });

      it(`${mode}: a wrong password, another user's password, an empty one and an unknown user are 401`, async () => {
        for (const [u, p] of [
          ["alice", "wrong"],
          ["alice", PW.bob],
          ["alice", ""],
          ["nobody", PW.alice],
        ] as const) {
          const r = await login(api(), u, p);
          assert.equal(r.status, 401, `${u}/${p}`);
          assert.deepEqual(await r.json(), {
            status: 401,
            return: "Could not authenticate using provided credentials",
          });
        }
      });
    }

    it("search: the user name is escaped in the filter (a* with alice's password is 401)", async () => {
      // unescaped, (uid=a*) finds alice's entry, her password binds, and `*` lists "a*": it would log in
      for (const u of ["a*", "*", "alice)(uid=*", "al*ce"])
        assert.equal((await login(searchApi, u, PW.alice)).status, 401, u);
    });

    it("bind: the user name is escaped in the DN (a name with a comma does not pick another DN)", async () => {
      // DN syntax in the name is escaped: the bind is for an entry that does not exist
      const r = await login(bindApi, `alice,ou=People,${SUFFIX}`, PW.alice);
      assert.equal(r.status, 401);
    });

    it("a directory that cannot be reached refuses the login (no exception, the server keeps serving)", async () => {
      const dead = await apiConfig({
        server: "127.0.0.1",
        port: await freePort(),
        binddn: `uid={{ username }},${SUFFIX}`,
      });
      const auth = new Authenticator(dead);
      assert.equal(await auth.login({ username: "alice", password: PW.alice, eauth: "ldap" }), undefined);
      await tokenOf(await login(searchApi, "alice", PW.alice));
    });

    it("a wrong search account password refuses every login", async () => {
      const bad = await apiConfig({
        uri: slapd.url,
        basedn: SUFFIX,
        binddn: `cn=reader,ou=Services,${SUFFIX}`,
        bindpw: "not-it",
        filter: "uid={{ username }}",
      });
      const auth = new Authenticator(bad);
      assert.equal(await auth.login({ username: "alice", password: PW.alice, eauth: "ldap" }), undefined);
    });
  },
);

void describe("ldap eauth configuration", () => {
  it("refuses auth_by_group_membership_only, tls with starttls, and a config with no way to find the DN", async () => {
    const errs = (o: Record<string, unknown>) =>
      apiConfig(o).then(
        () => "",
        (e: Error) => e.message,
      );
    assert.match(
      await errs({ binddn: "uid={{ username }}", auth_by_group_membership_only: true }),
      /auth\.ldap\.auth_by_group_membership_only.*any password/,
    );
    assert.match(
      await errs({ binddn: "uid={{ username }}", tls: true, starttls: true }),
      /auth\.ldap\.starttls/,
    );
    assert.match(await errs({}), /external_auth\.ldap.*auth\.ldap\.binddn/);
    assert.match(await errs({ anonymous: true }), /auth\.ldap\.filter/);
    assert.match(await errs({ binddn: "x", scope: 5 }), /auth\.ldap\.scope/);
  });
});
