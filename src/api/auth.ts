/**
 * Logins and tokens, as Salt's LoadAuth: a login names an `external_auth` back-end, the user must be
 * listed in its ACL (by name, `*` or a group), the back-end checks the password, and the token
 * (40 hex characters, like Salt's) lasts `token_expire` seconds, or the `token_expire` the user
 * asked for when `token_expire_user_override` allows it. With `keep_acl_in_token` the ACL is fixed
 * at login; without, it is looked up again on each request. Tokens live in the service's memory.
 */
import { randomBytes } from "node:crypto";
import type { AclEntry, ApiConfig } from "../config/index.js";
import { fillAuthList, isListed } from "./acl.js";
import { checkFilePassword } from "./passwords.js";
import { pamAuthenticate, systemGroups } from "./pam.js";
import { ldapLogin } from "./ldap.js";

/** A token's record. */
export interface Session {
  readonly token: string;
  readonly name: string;
  readonly eauth: string;
  readonly groups: readonly string[];
  /** Seconds since the epoch (Salt's floats). */
  readonly start: number;
  readonly expire: number;
  readonly authList?: readonly AclEntry[];
}

/** Credentials of a login (`/login`, `/run`). */
export interface Credentials {
  readonly username?: unknown;
  readonly password?: unknown;
  readonly eauth?: unknown;
  readonly token_expire?: unknown;
}

/** Checks passwords and keeps tokens. */
export class Authenticator {
  private readonly sessions = new Map<string, Session>();
  constructor(
    private readonly config: ApiConfig,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** A new session, or undefined when the credentials are refused (Salt answers 401). */
  async login(c: Credentials): Promise<Session | undefined> {
    const { username: name, password, eauth } = c;
    if (typeof name !== "string" || typeof password !== "string" || typeof eauth !== "string")
      return undefined;
    const backend = Object.hasOwn(this.config.external_auth, eauth)
      ? this.config.external_auth[eauth]
      : undefined;
    if (!backend || name === "" || password === "") return undefined;
    let groups: readonly string[];
    if (backend.backend === "ldap") {
      // the directory gives the groups only to a bound user (or the search account)
      const found = this.config.ldap ? await ldapLogin(this.config.ldap, name, password) : undefined;
      if (!found || !isListed(backend.acl, name, found.groups)) return undefined;
      groups = found.groups;
    } else {
      groups = backend.backend === "pam" ? await systemGroups(name) : [];
      if (!isListed(backend.acl, name, groups)) return undefined;
      const ok =
        backend.backend === "pam"
          ? await pamAuthenticate(this.config.pam_service, name, password)
          : await checkFilePassword(backend.file!, name, password).catch(() => false);
      if (!ok) return undefined;
    }
    const start = this.now();
    const session: Session = {
      token: randomBytes(20).toString("hex"),
      name,
      eauth,
      groups,
      start,
      expire: start + this.lifetime(eauth, name, c.token_expire),
      ...(this.config.keep_acl_in_token ? { authList: fillAuthList(backend.acl, name, groups) } : {}),
    };
    this.prune();
    this.sessions.set(session.token, session);
    return session;
  }

  /** The live session of a token; undefined when unknown or expired. */
  get(token: string | undefined): Session | undefined {
    if (!token || !/^[0-9a-f]{40}$/.test(token)) return undefined;
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expire <= this.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    return s;
  }

  /** The ACL of a session: kept in the token, or read from the configuration. */
  authList(s: Session): readonly AclEntry[] {
    if (s.authList) return s.authList;
    const backend = this.config.external_auth[s.eauth];
    return backend ? fillAuthList(backend.acl, s.name, s.groups) : [];
  }

  /** What /login answers as `perms`: the user's raw ACL entries (Salt's sum_permissions). */
  perms(s: Session): unknown[] {
    const raw = this.config.external_auth[s.eauth]?.raw ?? {};
    const out: unknown[] = [];
    let named = false;
    for (const [who, entries] of Object.entries(raw)) {
      const list = Array.isArray(entries) ? (entries as unknown[]) : [];
      if (who === "*") continue;
      if (who.endsWith("%") ? s.groups.includes(who.slice(0, -1)) : isListed({ [who]: [] }, s.name, [])) {
        if (!who.endsWith("%")) named = true;
        out.push(...list);
      }
    }
    if (!named && Array.isArray(raw["*"])) out.push(...(raw["*"] as unknown[]));
    return out;
  }

  logout(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }

  private lifetime(eauth: string, name: string, asked: unknown): number {
    const o = this.config.token_expire_user_override;
    const allowed = o === true || (typeof o === "object" && (o[eauth] ?? []).includes(name));
    const n = typeof asked === "number" ? asked : typeof asked === "string" ? Number(asked) : NaN;
    return allowed && Number.isFinite(n) && n > 0 ? n : this.config.token_expire;
  }

  private prune(): void {
    const t = this.now();
    for (const [k, s] of this.sessions) if (s.expire <= t) this.sessions.delete(k);
  }
}
