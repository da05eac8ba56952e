/**
 * Prometheus metrics: the only module that imports prom-client. Each process has its own
 * Registry. The service's counters are read from the engine's `counters` object when scraped;
 * consumer lag is asked from the server on scrape, with a timeout.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Connection } from "../bus/index.js";

/** Something `/metrics` can serve. */
export interface MetricsSource {
  readonly contentType: string;
  /** The Prometheus text format. */
  text(): Promise<string>;
}

/** The lag of the durable consumer: messages not yet delivered, and delivered but not acked. */
export interface ConsumerLag {
  readonly pending: number;
  readonly ackPending: number;
}

/** What the service metrics read. */
export interface ServiceMetricsDeps {
  /** The engine's counters (ReactorEngine.counters); read on every scrape. */
  readonly counters: () => Readonly<Record<string, number>>;
  /** Asks the server for the consumer's lag (see consumerLag). Default: no lag metrics. */
  readonly lag?: () => Promise<ConsumerLag>;
  /** Longest wait for the lag on a scrape, ms. Default 2000. */
  readonly lagTimeoutMs?: number;
}

/** The service's metrics. */
export interface ServiceMetrics extends MetricsSource {
  /** Records how long one event took to handle (seconds). */
  observeHandling(seconds: number): void;
  /** Counts one HTTP answer (route: `hook`, `events`, `metrics`, `healthz`, `other`). */
  observeRequest(route: string, status: number): void;
}

/** Buckets of event handling latency, seconds. */
const HANDLING_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Creates the service's metrics in a Registry of their own. */
export function createServiceMetrics(deps: ServiceMetricsDeps): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const read = (k: string) => deps.counters()[k] ?? 0;
  const counter = (name: string, help: string, key: string) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(key));
      },
    });
  counter("reactor_events_received_total", "Events the engine received.", "received");
  counter("reactor_events_matched_total", "Events that matched at least one reactor map entry.", "matched");
  counter(
    "reactor_events_rejected_total",
    "Events rejected by the verifier (signature, key state, namespace).",
    "rejected",
  );
  counter(
    "reactor_messages_invalid_total",
    "Messages on the event subjects that were not valid events (no headers, tag not matching the subject, too large, too deep, not JSON); terminated at once.",
    "invalid",
  );
  counter("reactor_render_errors_total", "Reactor files that failed to render for an event.", "renderErrors");
  counter("reactor_reactions_throttled_total", "Reactions dropped by a throttle.", "throttled");
  counter(
    "reactor_reactions_duplicate_total",
    "Reactions skipped because the ledger had already done them.",
    "duplicates",
  );
  new Counter({
    name: "reactor_reactions_total",
    help: "Reactions by result (dispatched or failed).",
    labelNames: ["result"] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: "dispatched" }, read("dispatched"));
      this.inc({ result: "failed" }, read("failed"));
    },
  });
  new Counter({
    name: "reactor_dropped_total",
    help: "Events or reactions dropped, by reason (throttled, depth_exceeded, flood, target_widening).",
    labelNames: ["reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: "throttled" }, read("throttled"));
      this.inc({ reason: "depth_exceeded" }, read("depthExceeded"));
      this.inc({ reason: "flood" }, read("flooded"));
      this.inc({ reason: "target_widening" }, read("widened"));
    },
  });
  if (deps.lag) lagGauges(registry, deps.lag, deps.lagTimeoutMs ?? 2000);
  const handling = new Histogram({
    name: "reactor_event_handling_seconds",
    help: "Time from the delivery of an event to its acknowledgement.",
    buckets: HANDLING_BUCKETS,
    registers: [registry],
  });
  const requests = new Counter({
    name: "reactor_http_requests_total",
    help: "HTTP answers by route and status.",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    observeHandling: (s) => handling.observe(s),
    observeRequest: (route, status) => requests.inc({ route, status: String(status) }),
  };
}

function lagGauges(registry: Registry, lag: () => Promise<ConsumerLag>, timeoutMs: number): void {
  const errors = new Counter({
    name: "reactor_consumer_lag_errors_total",
    help: "Scrapes that could not read the consumer's lag.",
    registers: [registry],
  });
  let pending: Promise<ConsumerLag | undefined> | undefined;
  // One server round trip per scrape, shared by the three gauges.
  const once = () => {
    pending ??= withTimeout(lag(), timeoutMs)
      .catch(() => {
        errors.inc();
        return undefined;
      })
      .finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const gauge = (name: string, help: string, pick: (l: ConsumerLag) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const l = await once();
        this.reset();
        if (l) this.set(pick(l));
      },
    });
  gauge(
    "reactor_consumer_pending_messages",
    "Messages of the stream not yet delivered to the durable consumer.",
    (l) => l.pending,
  );
  gauge(
    "reactor_consumer_ack_pending_messages",
    "Messages delivered to the service and not yet acknowledged.",
    (l) => l.ackPending,
  );
  gauge(
    "reactor_consumer_lag_messages",
    "Consumer lag: pending plus ack pending.",
    (l) => l.pending + l.ackPending,
  );
}

/** Reads the durable consumer's lag from the server. */
export function consumerLag(conn: Connection, stream: string, durable: string): () => Promise<ConsumerLag> {
  return async () => {
    const info = await conn.jsm.consumers.info(stream, durable);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The agent's metrics. */
export interface AgentMetrics extends MetricsSource {
  /** Counts one beacon run; `ok: false` also counts an error. */
  beaconRun(beacon: string, ok: boolean): void;
  /** Records one job: its function, duration (seconds) and whether it succeeded. */
  jobDone(fun: string, seconds: number, ok: boolean): void;
  /** Counts one job message refused and terminated (`malformed`, `unsigned`). */
  jobRefused(kind: string): void;
}

/** Creates an agent's metrics (beacon runs and errors, job durations, process metrics). */
export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runs = new Counter({
    name: "reactor_agent_beacon_runs_total",
    help: "Beacon runs by beacon.",
    labelNames: ["beacon"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "reactor_agent_beacon_errors_total",
    help: "Beacon runs that failed, by beacon.",
    labelNames: ["beacon"] as const,
    registers: [registry],
  });
  const jobs = new Histogram({
    name: "reactor_agent_job_duration_seconds",
    help: "Job durations by function and result.",
    labelNames: ["fun", "result"] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const refused = new Counter({
    name: "reactor_agent_jobs_refused_total",
    help: "Job messages refused and terminated at once, by kind (malformed, unsigned).",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    jobRefused: (kind) => refused.inc({ kind }),
    beaconRun(beacon, ok) {
      runs.inc({ beacon });
      if (!ok) errors.inc({ beacon });
    },
    jobDone: (fun, seconds, ok) => jobs.observe({ fun, result: ok ? "success" : "failure" }, seconds),
  };
}
