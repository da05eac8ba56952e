/**
 * Which events a user may see (`GET /events`, `GET /ws/<token>`), and the API's job cache
 * (`GET /jobs`, the `jobs.*` runners). Salt streams every event to every token; here a job's events
 * are shown to users whose ACL allows that function on those minions, `salt/run/...` to users with
 * runner rights, `salt/wheel/...` and `salt/key/...` to users with wheel rights, and any other
 * event to users whose ACL covers every minion.
 */
import type { AclEntry } from "../config/index.js";
import type { ReactorEvent } from "../core/index.js";
import { authCheck, isUnrestricted, specCheck, type TargetResolver } from "./acl.js";

/** Whether an event may be shown to the holder of `authList`. */
export function maysee(e: ReactorEvent, authList: readonly AclEntry[], resolve: TargetResolver): boolean {
  const d = e.data as Record<string, unknown>;
  const fun = typeof d["fun"] === "string" ? d["fun"] : undefined;
  let m = /^salt\/job\/[^/]+\/ret\/(.+)$/.exec(e.tag);
  if (m && fun)
    return authCheck(
      authList,
      { fun, arg: args(d["fun_args"]), kwarg: {}, tgt: [m[1]!], tgtType: "list" },
      resolve,
    );
  m = /^salt\/job\/[^/]+\/new$/.exec(e.tag);
  if (m && fun) {
    const minions = Array.isArray(d["minions"])
      ? (d["minions"] as unknown[]).filter((x): x is string => typeof x === "string")
      : [];
    return authCheck(
      authList,
      { fun, arg: args(d["arg"]), kwarg: {}, tgt: minions, tgtType: "list" },
      resolve,
    );
  }
  const bare = (f: string | undefined) => (f ?? "").replace(/^(runner|wheel)\./, "");
  if (e.tag.startsWith("salt/run/")) return specCheck(authList, bare(fun), {}, "runner");
  if (e.tag.startsWith("salt/wheel/") || e.tag.startsWith("salt/key/"))
    return specCheck(authList, bare(fun) || "key.list_all", {}, "wheel");
  return isUnrestricted(authList);
}

function args(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** What the cache knows of one job. */
export interface CachedJob {
  readonly jid: string;
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly tgt: unknown;
  readonly tgt_type: string;
  readonly user: string;
  readonly minions: readonly string[];
  readonly start: string;
  readonly returns: Record<string, { return: unknown; retcode: number; success: boolean }>;
}

/** The last `max` jobs seen on the bus (new and returns), in memory. */
export class JobCache {
  private readonly jobs = new Map<string, CachedJob>();
  constructor(private readonly max = 1000) {}

  observe(e: ReactorEvent): void {
    const d = e.data as Record<string, unknown>;
    const m = /^salt\/job\/([^/]+)\/(new|ret\/(.+))$/.exec(e.tag);
    if (!m) return;
    const jid = m[1]!;
    if (m[2] === "new") {
      this.jobs.set(jid, {
        jid,
        fun: String(d["fun"] ?? ""),
        arg: args(d["arg"]),
        tgt: d["tgt"] ?? "",
        tgt_type: String(d["tgt_type"] ?? "glob"),
        user: String(d["user"] ?? ""),
        minions: args(d["minions"]).map(String),
        start: e.stamp,
        returns: this.jobs.get(jid)?.returns ?? {},
      });
      while (this.jobs.size > this.max) this.jobs.delete(this.jobs.keys().next().value!);
    } else {
      const job = this.jobs.get(jid);
      if (job)
        job.returns[m[3]!] = {
          return: d["return"] ?? null,
          retcode: Number(d["retcode"] ?? 0),
          success: d["success"] !== false,
        };
    }
  }

  get(jid: string): CachedJob | undefined {
    return this.jobs.get(jid);
  }

  list(): CachedJob[] {
    return [...this.jobs.values()];
  }
}
