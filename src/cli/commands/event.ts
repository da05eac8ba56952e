/**
 * `reactor event send TAG [DATA|@file.json]`, `reactor event send --file events.jsonl`, and
 * `reactor event watch [GLOB] [--json] [--since 10m]` (DESIGN.md 8).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { causeText, createLogger, openClient, resolveServers, type Client } from "../../apps/index.js";
import { watchEvents, type WatchStart } from "../../bus/index.js";
import { compileTagGlob } from "../../core/glob/index.js";
import { createEvent, errorMessage, subjectFilterForGlob, type ReactorEvent } from "../../core/index.js";
import { fail, parseSince, println, readDataArg, untilSignal } from "../common.js";

interface SendOptions {
  nats?: string;
  key?: string;
  json?: boolean;
  file?: string;
  window?: string;
}

interface WatchOptions {
  nats?: string;
  json?: boolean;
  since?: string;
  all?: boolean;
  path?: boolean;
}

/** Registers `reactor event send|watch`. */
export function registerEvent(program: Command): void {
  const event = program.command("event").description("fire and follow events");
  event
    .command("send")
    .description("publish an event (DATA is JSON text or @file.json), or every line of --file events.jsonl")
    .argument("[tag]", "the event tag, e.g. myco/deploy/web")
    .argument("[data]", "event data: a JSON object, or @file.json")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
    .option("--file <events.jsonl>", 'publish one {"tag", "data"} object per line')
    .option("--key <file>", "sign with this key (default: REACTOR_KEY_FILE, else the service key on this host)")
    .option("--window <n>", "publish acks awaited at once with --file", "256")
    .option("--json", "print results as JSON")
    .action(async (tag: string | undefined, data: string | undefined, opts: SendOptions) => {
      try {
        if (opts.file) await sendFile(opts.file, opts);
        else if (tag === undefined) throw new Error("give a TAG (or --file events.jsonl)");
        else await sendOne(tag, data, opts);
      } catch (err) {
        fail(err);
      }
    });
  event
    .command("watch")
    .description("follow events whose tag matches GLOB (Salt fnmatch; default: all)")
    .argument("[glob]", "tag glob", "*")
    .option("--nats <url>", "NATS server URL (default: NATS_URL, else nats://127.0.0.1:4222)")
    .option("--json", 'one JSON object per line: {"tag", "data", "id", "stamp", "source"}')
    .option("--since <when>", "replay stored events from a duration ago (10m, 2h) or an ISO time")
    .option("--all", "replay every stored event first")
    .option("--path", "read GLOB as a path glob (* within a segment, ** across)")
    .action(async (glob: string, opts: WatchOptions) => {
      try {
        await watch(glob, opts);
      } catch (err) {
        fail(err);
      }
    });
}

async function connect(nats: string | undefined, name: string, keyFile?: string, signing = false): Promise<Client> {
  return openClient({
    servers: resolveServers(nats),
    name,
    signing,
    log: createLogger({ base: { app: "reactor-cli" }, level: "warn" }),
    ...(keyFile ? { keyFile } : {}),
  });
}

function warnUnsigned(client: Client): void {
  if (!client.key) process.stderr.write("reactor: no key (--key or REACTOR_KEY_FILE): the event goes unsigned, and the reactor will report it instead of acting on it\n");
}

async function sendOne(tag: string, dataArg: string | undefined, opts: SendOptions): Promise<void> {
  const event = createEvent({ tag, data: await readDataArg(dataArg), source: "cli" });
  const client = await connect(opts.nats, "reactor event send", opts.key, true);
  warnUnsigned(client);
  try {
    const r = await client.publisher.publish(event);
    if (opts.json) println(JSON.stringify({ id: event.id, tag, seq: r.seq, duplicate: r.duplicate }));
    else println(`sent ${tag} (id ${event.id}, stream seq ${r.seq})`);
  } finally {
    await client.close();
  }
}

async function sendFile(file: string, opts: SendOptions): Promise<void> {
  const window = Math.max(1, Number(opts.window) || 256);
  const client = await connect(opts.nats, "reactor event send --file", opts.key, true);
  warnUnsigned(client);
  const inflight = new Set<Promise<unknown>>();
  const bad: string[] = [];
  let sent = 0;
  const started = performance.now();
  // progress on a terminal, once a second; nothing with --json
  const tty = process.stderr.isTTY === true && !opts.json;
  const ticker = tty ? setInterval(() => process.stderr.write(`\rsent ${sent} events...`), 1000) : undefined;
  try {
    let lineNo = 0;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      lineNo++;
      if (line.trim() === "") continue;
      let event: ReactorEvent;
      try {
        const obj = JSON.parse(line) as { tag?: unknown; data?: unknown };
        event = createEvent({ tag: obj.tag as string, data: obj.data ?? {}, source: "cli" });
      } catch (err) {
        bad.push(`${file}:${lineNo}: ${errorMessage(err)}`);
        continue;
      }
      const p = client.publisher.publish(event).then(
        () => void sent++,
        (err: unknown) => void bad.push(`${file}:${lineNo}: ${errorMessage(err)}`),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= window) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  } finally {
    clearInterval(ticker);
    if (tty) process.stderr.write("\r");
    await client.close();
  }
  const secs = (performance.now() - started) / 1000;
  for (const b of bad) process.stderr.write(`reactor: ${b}\n`);
  if (opts.json) println(JSON.stringify({ sent, failed: bad.length, seconds: Number(secs.toFixed(3)) }));
  else println(`sent ${sent} events in ${secs.toFixed(2)} s (${Math.round(sent / secs)}/s)${bad.length ? `, ${bad.length} failed` : ""}`);
  if (bad.length) process.exitCode = 1;
}

async function watch(pattern: string, opts: WatchOptions): Promise<void> {
  const glob = compileTagGlob(pattern, opts.path ? "path" : "fnmatch");
  const start: WatchStart = opts.since ? { kind: "time", since: parseSince(opts.since) } : opts.all ? { kind: "all" } : { kind: "new" };
  const client = await connect(opts.nats, "reactor event watch");
  const stream = await watchEvents(client.conn, client.streamName, {
    filter: subjectFilterForGlob(glob),
    start,
    maxEventBytes: client.maxEventBytes,
    onInvalid: (bad) => process.stderr.write(`reactor: skipped message on ${bad.subject} (seq ${bad.seq}): ${bad.reason}\n`),
  });
  if (!opts.json && process.stdout.isTTY) process.stderr.write(`watching ${pattern} on ${resolveServers(opts.nats).join(",")} (Ctrl-C to stop)\n`);
  const stop = untilSignal().then(() => stream.stop());
  for await (const d of stream) {
    if (!glob.test(d.event.tag)) continue;
    println(opts.json ? jsonLine(d.event) : pretty(d.event));
  }
  await stop;
  await client.close();
}

function jsonLine(e: ReactorEvent): string {
  return JSON.stringify({ tag: e.tag, data: e.data, id: e.id, stamp: e.stamp, source: e.source });
}

function pretty(e: ReactorEvent): string {
  const color = process.stdout.isTTY;
  const tag = color ? `\x1b[1;36m${e.tag}\x1b[0m` : e.tag;
  const meta = `${e.stamp} from ${e.source}${causeText(e)}`;
  return `${tag}  ${color ? `\x1b[2m${meta}\x1b[0m` : meta}\n${JSON.stringify(e.data, null, 2)}\n`;
}
