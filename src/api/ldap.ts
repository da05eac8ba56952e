/**
 * The `ldap` eauth back-end, Salt's salt/auth/ldap.py on `ldapts` (the one module that imports it):
 * a simple bind as the user's DN with the password given at login. The DN is `auth.ldap.binddn`
 * with `{{ username }}` replaced, or, with a search account (`binddn` + `bindpw`) or
 * `auth.ldap.anonymous`, the one entry `auth.ldap.filter` finds under `basedn`. Groups (for `group%`
 * ACL keys) are the `cn` of the `groupclass` entries under `ou=<groupou>,<basedn>` whose
 * `accountattributename` holds the user name (OpenLDAP's posixGroup layout, Salt's default).
 * The user name is data: it is escaped for DNs (RFC 4514) and filters (RFC 4515), never rendered
 * as a template. An empty password is refused here (LDAP treats it as an anonymous bind).
 */
import { Client, Filter } from "ldapts";
import type { LdapOptions } from "../config/index.js";

/** The result of a login: undefined when refused or when the directory cannot be reached. */
export interface LdapLogin {
  readonly dn: string;
  readonly groups: readonly string[];
}

/** RFC 4514 escaping of an attribute value inside a DN. */
export function escapeDnValue(v: string): string {
  return v
    .replace(/[\\,+"<>;=]/g, (ch) => `\\${ch}`)
    .replace(/^[ #]/, (ch) => `\\${ch}`)
    .replace(/ $/, "\\ ")
    .replace(/\0/g, "\\00");
}

/** `{{ username }}` (any spacing) replaced by `value`: the only substitution Salt's templates get here. */
function fill(template: string, value: string): string {
  return template.replace(/\{\{\s*username\s*\}\}/g, () => value);
}

function client(o: LdapOptions): Client {
  return new Client({
    url: o.url,
    timeout: 10_000,
    connectTimeout: 5_000,
    // ldapts speaks TLS from the start whenever tlsOptions is given, so only for ldaps://
    ...(o.url.startsWith("ldaps:") ? { tlsOptions: { rejectUnauthorized: !o.no_verify } } : {}),
  });
}

async function open(o: LdapOptions): Promise<Client> {
  const c = client(o);
  if (o.starttls) await c.startTLS({ rejectUnauthorized: !o.no_verify });
  return c;
}

async function close(c: Client): Promise<void> {
  await c.unbind().catch(() => undefined);
}

/** Checks `password` for `user` against the directory; the user's DN and groups when it is right. */
export async function ldapLogin(
  o: LdapOptions,
  user: string,
  password: string,
): Promise<LdapLogin | undefined> {
  if (user === "" || password === "") return undefined;
  const search = o.anonymous || (o.binddn !== undefined && o.bindpw !== undefined);
  let searcher: Client | undefined;
  let userConn: Client | undefined;
  try {
    let dn: string;
    if (search) {
      searcher = await open(o);
      if (!o.anonymous) await searcher.bind(fill(o.binddn!, escapeDnValue(user)), o.bindpw!);
      const { searchEntries } = await searcher.search(o.basedn, {
        scope: o.scope,
        filter: fill(o.filter!, Filter.escape(user)),
        attributes: ["dn"],
        sizeLimit: 2,
      });
      if (searchEntries.length !== 1) return undefined;
      dn = searchEntries[0]!.dn;
    } else dn = fill(o.binddn!, escapeDnValue(user));
    userConn = await open(o);
    await userConn.bind(dn, password);
    const groups = await groupsOf(searcher ?? userConn, o, user);
    return { dn, groups };
  } catch {
    return undefined;
  } finally {
    if (searcher) await close(searcher);
    if (userConn) await close(userConn);
  }
}

async function groupsOf(c: Client, o: LdapOptions, user: string): Promise<string[]> {
  const base = o.groupou === "" ? o.basedn : `ou=${escapeDnValue(o.groupou)},${o.basedn}`;
  const attr = o.accountattributename;
  const { searchEntries } = await c.search(base, {
    scope: "sub",
    filter: `(&(${attr}=${Filter.escape(user)})(objectClass=${Filter.escape(o.groupclass)}))`,
    attributes: [attr, "cn"],
  });
  const out: string[] = [];
  for (const e of searchEntries) {
    const members = ([] as unknown[]).concat(e[attr] ?? []).map(String);
    const cn = ([] as unknown[]).concat(e["cn"] ?? [])[0];
    if (members.includes(user) && cn !== undefined) out.push(String(cn));
  }
  return out;
}
