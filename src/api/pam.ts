/**
 * The `pam` eauth back-end: a real PAM conversation through Debian's `pamtester` (the service name
 * is Salt's `auth.pam.service`, default `login`). npm here runs no install scripts, so a native
 * PAM binding (authenticate-pam, node-linux-pam: node-gyp builds) cannot be built; pamtester is a
 * small packaged program that runs pam_authenticate and pam_acct_mgmt for one user. The password
 * goes on its standard input, never on a command line; the user name is checked first.
 */
import { execFile, spawn } from "node:child_process";

/** Where pamtester is; `PAMTESTER` overrides (tests, other distributions). */
export const PAMTESTER = process.env["PAMTESTER"] ?? "/usr/bin/pamtester";

/** Names PAM and the shadow file can hold; anything else is refused without running PAM. */
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/** Whether PAM accepts `password` for `user` (authenticate, then account management). */
export function pamAuthenticate(
  service: string,
  user: string,
  password: string,
  timeoutMs = 15_000,
): Promise<boolean> {
  if (!USER_NAME.test(user) || password.includes("\n")) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(PAMTESTER, ["-v", "--", service, user, "authenticate", "acct_mgmt"], {
      stdio: ["pipe", "ignore", "ignore"],
      timeout: timeoutMs,
    });
    child.once("error", () => resolve(false));
    child.once("close", (code) => resolve(code === 0));
    child.stdin.end(`${password}\n`);
  });
}

/** The system groups of `user` (for `group%` ACL keys), as `id -Gn` reports them. */
export function systemGroups(user: string): Promise<string[]> {
  if (!USER_NAME.test(user)) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile("id", ["-Gn", "--", user], { timeout: 5000 }, (err, stdout) =>
      resolve(err ? [] : stdout.trim().split(/\s+/).filter(Boolean)),
    );
  });
}
