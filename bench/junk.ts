/**
 * How long junk blocks valid events (issue 13, item 1). Run: `node dist/bench/junk.js`.
 * nats-server with the generated auth and the service as `reactor up` runs them, and a real agent, on test/fixtures/security (consumer
 * ack_wait 5 s, max_ack_pending 1000, max_deliver 100). For each N in BENCH_JUNK (default
 * 0,1200,5000): publish N junk messages on evt.attack.echo (alternating: no headers and a `{}`
 * body; a Reactor-Tag that does not match the subject), then one valid signed event, and time
 * from its publish until its job return is on the bus (capped at BENCH_CAP_S, default 120 s).
 */
import { headers as natsHeaders } from "@nats-io/transport-node";
import { createEventPublisher, watchEvents } from "../src/bus/index.js";
import { signEvent } from "../src/core/auth/index.js";
import { createEvent, type ReactorEvent } from "../src/core/index.js";
import { loadServiceKey } from "../src/keys/index.js";
import { startAccepted, startUpStack } from "../test/security/stacks.js";

const NS = (process.env.BENCH_JUNK ?? "0,1200,5000").split(",").map(Number);
const CAP_MS = Number(process.env.BENCH_CAP_S ?? 120) * 1000;

const stack = await startUpStack({ fixture: "security" });
try {
  await startAccepted(stack, "web1", { job_timeout: 10 });
  // the service's NATS user: on the authenticated stack only it may publish on evt.attack.echo,
  // so the bench measures the service's handling of junk, not the server's refusal
  const conn = await stack.observer();
  const seen: ReactorEvent[] = [];
  const w = await watchEvents(conn, "EVENTS", { filter: "evt.salt.job.>", start: { kind: "new" }, maxEventBytes: 1 << 20, onInvalid: () => undefined });
  void (async () => {
    for await (const d of w) seen.push(d.event);
  })();
  const key = await loadServiceKey(stack.serviceKeyFile);
  const pub = createEventPublisher(conn, { maxEventBytes: 1 << 20, sign: (e) => signEvent(e, key) });
  const wrongTag = natsHeaders();
  wrongTag.set("Reactor-Tag", "attack/other");
  for (const n of NS) {
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) conn.nc.publish("evt.attack.echo", "{}");
      else conn.nc.publish("evt.attack.echo", '{"host":"web1"}', { headers: wrongTag });
    }
    await conn.nc.flush();
    const text = `bench-${n}-${Date.now()}`;
    const t0 = performance.now();
    await pub.publish(createEvent({ tag: "attack/echo", data: { host: "web1", text } }));
    let took: number | undefined;
    while (performance.now() - t0 < CAP_MS) {
      if (seen.some((e) => e.data["return"] === text)) {
        took = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const info = await conn.jsm.consumers.info("EVENTS", "reactor");
    console.log(
      `junk=${n}: valid event reacted to ${took === undefined ? `not within ${CAP_MS / 1000} s` : `after ${took.toFixed(0)} ms`}; ` +
        `consumer ack_pending=${info.num_ack_pending} pending=${info.num_pending} redelivered=${info.num_redelivered}`,
    );
  }
  await w.stop();
} finally {
  await stack.stop();
}
