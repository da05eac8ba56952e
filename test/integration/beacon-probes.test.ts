import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { appendFile, mkdir, mkdtemp, rename, rm, writeFile, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ServiceManager } from "../../src/core/index.js";
import { parseYaml } from "../../src/config/index.js";
import { compileBeacons, createBeaconScheduler, createBeaconsModule, type BeaconSpec } from "../../src/beacons/index.js";
import { RecordingSink } from "../fixtures/beacons/sink.js";
import { waitFor } from "../helpers/wait.js";

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "nr-beacon-"));
  dirs.push(d);
  return d;
}

function specs(yaml: string, fast = false): BeaconSpec[] {
  const { beacons, errors } = compileBeacons(parseYaml(yaml, "beacons.yaml"));
  assert.deepEqual(errors.map((e) => e.message), []);
  return fast ? beacons.map((b) => ({ ...b, intervalMs: 50, timeoutMs: 2000 })) : beacons;
}

/** A service manager whose one service is a real process: running = the process is alive. */
function processServiceManager(pid: number): ServiceManager & { calls: number } {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const no = async () => false;
  const sm = {
    calls: 0,
    kind: "test",
    status: async () => {
      sm.calls++;
      return alive();
    },
    available: async () => true, start: no, stop: no, restart: no, reload: no };
  return sm;
}

void describe("beacon probes on real processes and files", () => {
  void it("service: reports running: false within one interval after SIGKILL, once with onchangeonly", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    const sink = new RecordingSink();
    const sm = processServiceManager(child.pid!);
    const s = createBeaconScheduler({
      agentId: "web1",
      beacons: specs("beacons:\n  service:\n    - services: { demo: { onchangeonly: true } }\n    - interval: 1\n"),
      sink,
      deps: { serviceManager: sm },
    });
    try {
      await waitFor(() => sink.events.length === 1, { what: "the startup event" });
      assert.equal(sink.events[0]!.tag, "salt/beacon/web1/service/demo");
      assert.deepEqual({ ...sink.events[0]!.data, _stamp: undefined }, { service_name: "demo", demo: { running: true }, id: "web1", _stamp: undefined });
      child.kill("SIGKILL");
      await exited;
      const callsAtKill = sm.calls;
      let callsAtDown = 0;
      await waitFor(() => {
        callsAtDown = sm.calls;
        return sink.events.some((e) => (e.data["demo"] as { running: boolean }).running === false);
      });
      assert.equal(callsAtDown, callsAtKill + 1, "the first probe after the kill (one interval) reports it");
      assert.equal(s.list()[0]!.interval, 1);
      // Three more probes: onchangeonly must not repeat the event.
      const at = sm.calls;
      await waitFor(() => sm.calls >= at + 3, { timeoutMs: 6000 });
      assert.equal(sink.events.length, 2);
    } finally {
      await s.stop();
      child.kill("SIGKILL");
    }
  });

  void it("inotify: create, modify and delete in a temp dir, with exclude and recurse", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "sub"));
    const sink = new RecordingSink();
    const s = createBeaconScheduler({
      agentId: "h1",
      beacons: specs(`beacons:
  inotify:
    - files:
        ${dir}:
          mask: [create, modify, delete]
          recurse: true
          exclude: [ ${join(dir, "skip")} , { '.*\\.swp$': { regex: true } } ]
`, true),
      sink,
    });
    const changes = () => sink.events.map((e) => [e.tag, e.data["path"], e.data["change"]]);
    try {
      // The watchers start with the first tick: create probe files until one is seen.
      let i = 0;
      await waitFor(async () => {
        await writeFile(join(dir, "sub", `probe${i++}`), "");
        return sink.events.length > 0;
      });
      sink.events.length = 0;
      const f = join(dir, "sub", "a.conf");
      await writeFile(f, "one");
      await waitFor(() => sink.events.some((e) => e.data["path"] === f));
      await writeFile(join(dir, "skip"), "x");
      await writeFile(join(dir, "b.swp"), "x");
      await appendFile(f, "two");
      await waitFor(() => sink.events.some((e) => e.data["change"] === "IN_MODIFY"));
      await rm(f);
      await waitFor(() => sink.events.some((e) => e.data["change"] === "IN_DELETE"));
      const seen = changes();
      assert.deepEqual(seen[0], [`salt/beacon/h1/inotify/${join(dir, "sub")}`, f, "IN_CREATE"]);
      assert.ok(seen.every(([, p]) => p === f), `only the watched, non-excluded file: ${JSON.stringify(seen)}`);
      assert.ok(seen[0]![0]!.startsWith("salt/beacon/h1/inotify//"), "the path is embedded after inotify/");
    } finally {
      await s.stop();
    }
  });

  void it("http_status: fires when the site fails and when it recovers, not in between", async () => {
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end(status === 200 ? "ok" : "broken"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const sink = new RecordingSink();
    const s = createBeaconScheduler({
      agentId: "h1",
      beacons: specs(`beacons:\n  http_status:\n    - sites: { api: { url: "http://127.0.0.1:${port}/health", timeout: 2 } }\n`, true),
      sink,
    });
    let requests = 0;
    server.on("request", () => requests++);
    try {
      await waitFor(() => requests >= 3);
      assert.equal(sink.events.length, 0, "a healthy site is silent");
      status = 500;
      await waitFor(() => sink.events.length === 1);
      const at = requests;
      await waitFor(() => requests >= at + 3);
      status = 200;
      await waitFor(() => sink.events.length === 2);
      const [down, up] = sink.events;
      assert.equal(down!.tag, "salt/beacon/h1/http_status/api");
      assert.deepEqual([down!.data["ok"], down!.data["status_code"], down!.data["reason"]], [false, 500, "status 500 is not one of 200"]);
      assert.deepEqual([up!.data["ok"], up!.data["status_code"], up!.data["reason"]], [true, 200, ""]);
    } finally {
      await s.stop();
      server.close();
    }
  });

  void it("diskusage: a 0% threshold on / fires, 100% does not", async () => {
    const sink = new RecordingSink();
    const s = createBeaconScheduler({
      agentId: "h1",
      beacons: specs(`beacons:
  low:  { beacon_module: diskusage, '/': 0% }
  full: { beacon_module: diskusage, '/': 100% }
`, true),
      sink,
    });
    try {
      await waitFor(() => sink.events.length >= 3);
    } finally {
      await s.stop();
    }
    assert.ok(sink.events.every((e) => e.tag === "salt/beacon/h1/low/"));
    assert.equal(sink.events[0]!.data["mount"], "/");
    assert.equal(typeof sink.events[0]!.data["diskusage"], "number");
  });

  void it("log: tails from the end with regex tags, through rotation and truncation", async () => {
    const dir = await tempDir();
    const file = join(dir, "app.log");
    await writeFile(file, "ERROR old line before start\n");
    const sink = new RecordingSink();
    const s = createBeaconScheduler({
      agentId: "h1",
      beacons: specs(`beacons:\n  log:\n    - file: ${file}\n    - tags: { error: { regex: 'ERROR' }, login: { regex: '.*sshd.*Accepted' } }\n`, true),
      sink,
    });
    const raws = () => sink.events.map((e) => [e.tag.split("/").pop(), e.data["raw"]]);
    try {
      // Lines are appended until one is seen: the first poll only records the end of the file.
      await waitFor(async () => {
        await appendFile(file, "ERROR first\n");
        return sink.events.length > 0;
      });
      await appendFile(file, "info sshd[1]: Accepted key\nnot ERROR at start\nERROR par");
      await waitFor(() => raws().some(([t]) => t === "login"));
      await appendFile(file, "tial line\n");
      await waitFor(() => raws().some(([, r]) => r === "ERROR partial line"), { what: "the completed partial line" });
      await rename(file, `${file}.1`);
      await writeFile(file, "ERROR after rotation\n");
      await waitFor(() => raws().some(([, r]) => r === "ERROR after rotation"), { what: "the line after rotation" });
      // Truncated and rewritten shorter than before: read again from the start.
      await writeFile(file, "ERROR trunc\n");
      await waitFor(() => raws().some(([, r]) => r === "ERROR trunc"), { what: "the line after truncation" });
    } finally {
      await s.stop();
    }
    const seen = raws();
    assert.ok(!seen.some(([, r]) => r === "ERROR old line before start"));
    assert.ok(!seen.some(([, r]) => r === "not ERROR at start"), "regexes match at the line start, as Python's re.match");
    assert.deepEqual(sink.events.find((e) => e.tag === "salt/beacon/h1/log/login")!.data["raw"], "info sshd[1]: Accepted key");
    assert.deepEqual(Object.keys(sink.events[0]!.data).sort(), ["_stamp", "error", "id", "match", "raw"]);
  });

  void it("beacons.save writes the file back in Salt's list form", async () => {
    const dir = await tempDir();
    const file = join(dir, "beacons.yaml");
    const s = createBeaconScheduler({ agentId: "h1", beacons: specs("beacons:\n  memusage:\n    - percent: 99%\n    - interval: 60\n"), sink: new RecordingSink() });
    const mod = createBeaconsModule({ scheduler: s, file });
    try {
      assert.deepEqual(await mod["add"]!(["ps", [{ processes: { nothing_like_this: "running" } }]], {}), { result: true, comment: "Added beacon: ps." });
      assert.deepEqual(await mod["add"]!(["bad", [{ interval: 0 }]], {}), { result: false, comment: 'beacon_data: bad names an unknown beacon type "bad", did you mean "load"?' });
      assert.deepEqual(await mod["disable_beacon"]!(["memusage"], {}), { result: true, comment: "Disabled beacon memusage on minion." });
      assert.deepEqual(await mod["save"]!([], {}), { result: true, comment: `Beacons saved to ${file}.` });
      const back = compileBeacons(parseYaml(await readFile(file, "utf8"), file));
      assert.deepEqual(back.errors, []);
      assert.deepEqual(back.beacons.map((b) => [b.name, b.enabled, b.intervalMs]), [["memusage", false, 60_000], ["ps", true, 10_000]]);
    } finally {
      await s.stop();
    }
  });
});
