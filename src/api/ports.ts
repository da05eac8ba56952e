/** What the API needs from the service, given by the composition root (src/apps/api.ts). */
import type { ReactorEvent } from "../core/index.js";
import type { TargetResolver } from "./acl.js";

/** A `local` call as the API received it. */
export interface LocalCall {
  readonly tgt: string | readonly string[];
  readonly tgtType: string;
  readonly fun: string;
  readonly arg: readonly unknown[];
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** Seconds. */
  readonly timeout: number;
  readonly user: string;
}

/** One agent's return. */
export interface AgentReturn {
  readonly return: unknown;
  readonly retcode: number;
  readonly success: boolean;
}

/** A live stream of events (new ones only); `stop` ends it. */
export interface EventFeed extends AsyncIterable<ReactorEvent> {
  stop(): Promise<void>;
}

export interface ApiPorts {
  /** Ids of the accepted agents a target selects (for ACL target checks). */
  readonly resolve: TargetResolver;
  /** Runs a job and waits for the returns, as `reactor run` does. */
  runLocal(
    call: LocalCall,
  ): Promise<{ jid: string; targets: readonly string[]; returns: Readonly<Record<string, AgentReturn>> }>;
  /** Publishes a job without waiting. */
  startLocal(call: LocalCall): Promise<{ jid: string; targets: readonly string[] }>;
  /** Calls a runner or wheel function of the service (emitting `salt/run|wheel/<jid>/new|ret`); `wait` false returns after `new`. */
  callService(
    kind: "runner" | "wheel",
    fun: string,
    kwarg: Readonly<Record<string, unknown>>,
    user: string,
    wait: boolean,
  ): Promise<{ jid: string; return: unknown; success: boolean }>;
  /** Publishes an audit event (`reactor/api/...`). */
  audit(tag: string, data: Record<string, unknown>): Promise<void>;
  /** Watches new events whose tags match a glob. */
  watch(tagGlob: string): Promise<EventFeed>;
  /** `POST /keys` (Salt's `key.gen_accept`): a new key pair for `id`, accepted; refused when `id` has a key unless `force`. */
  genAcceptKey?(
    id: string,
    force: boolean,
  ): Promise<{ id: string; pub: string; seed: string; finger: string }>;
  /** The service's public nkey, written as `service.pub` in the `POST /keys` tarball. */
  readonly servicePub?: string;
}
