/**
 * Test harness: a real OpenLDAP `slapd` (Debian's package; .ci/run installs it) on a random loopback
 * port with a temp slapd.conf, an mdb database under a throwaway suffix, and the entries the test
 * gives (loaded with `slapadd` before the server starts). Stop it by PID with `stop()`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./nats-server.js";
import { waitFor } from "./wait.js";

export const SLAPD = "/usr/sbin/slapd";
export const SLAPADD = "/usr/sbin/slapadd";
export const HAVE_SLAPD = existsSync(SLAPD) && existsSync(SLAPADD);

export interface Slapd {
  readonly url: string;
  readonly port: number;
  readonly suffix: string;
  readonly rootdn: string;
  readonly rootpw: string;
  stop(): Promise<void>;
}

/** `{SSHA}` hash of a password, as slappasswd makes it. */
export function ldapHash(password: string): string {
  return execFileSync("/usr/sbin/slappasswd", ["-n", "-s", password], { encoding: "utf8" }).trim();
}

/** Starts slapd with `ldif` (entries under `suffix`, the suffix entry included) loaded. */
export async function startSlapd(suffix: string, ldif: string): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), "nr-slapd-"));
  await mkdir(join(dir, "db"));
  const rootdn = `cn=admin,${suffix}`;
  const rootpw = `root-${Math.random().toString(36).slice(2)}`;
  const conf = join(dir, "slapd.conf");
  await writeFile(
    conf,
    [
      ...["core", "cosine", "nis", "inetorgperson"].map((s) => `include /etc/ldap/schema/${s}.schema`),
      `pidfile ${join(dir, "slapd.pid")}`,
      "modulepath /usr/lib/ldap",
      "moduleload back_mdb",
      "database mdb",
      `suffix "${suffix}"`,
      `rootdn "${rootdn}"`,
      `rootpw ${rootpw}`,
      `directory ${join(dir, "db")}`,
      "maxsize 10485760",
      "access to attrs=userPassword by anonymous auth by self read by * none",
      "access to * by * read",
      "",
    ].join("\n"),
  );
  await writeFile(join(dir, "data.ldif"), ldif);
  execFileSync(SLAPADD, ["-q", "-f", conf, "-l", join(dir, "data.ldif")], { stdio: "pipe" });
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(SLAPD, ["-f", conf, "-h", `${url}/`, "-d", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`slapd exited: ${output}`);
      return new Promise<boolean>((resolve) => {
        const s = connect(port, "127.0.0.1", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      });
    },
    { what: () => `slapd listening on ${port}: ${output}` },
  );
  return {
    url,
    port,
    suffix,
    rootdn,
    rootpw,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
