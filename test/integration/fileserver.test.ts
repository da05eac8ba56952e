/**
 * The file server against a real nats-server: file_roots synced into the Object Store (first root
 * wins, unchanged files not uploaded again, changes and removals followed), the agents' caching
 * FileClient (counted direct gets on the wire), cp.* through the executor, and the same "no such
 * file" text as the local client.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  unlinkSync,
  existsSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBuiltinRegistry, createExecutor } from "../../src/agent/index.js";
import { agentFileClient, startFileServer } from "../../src/apps/fileserver.js";
import { startService } from "../../src/apps/service.js";
import { bindObjectReader, openConnection, type Connection } from "../../src/bus/index.js";
import { FileServerError, type FileClient } from "../../src/core/index.js";
import type { FileSync } from "../../src/fileserver/index.js";
import { localFileClient } from "../../src/state/index.js";
import { RecordingSink, job, noServices, testConfig } from "../fixtures/agent/harness.js";
import { runCli } from "../helpers/cli.js";
import { natsForTests, uniqueName } from "../helpers/nats-server.js";
import { fixtureDir } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

/** Counts messages on a subject pattern (what the server was asked, not what the client says it did). */
function counter(conn: Connection, subject: string): { readonly n: number; names: string[]; stop(): void } {
  const sub = conn.nc.subscribe(subject);
  const c = { n: 0, names: [] as string[], stop: () => sub.unsubscribe() };
  void (async () => {
    for await (const m of sub) {
      c.n++;
      c.names.push(m.subject);
    }
  })();
  return c;
}

/** Flushes so every message published before now has reached our subscriptions. */
const flush = (conn: Connection) => conn.nc.flush();

void describe("file server (Object Store)", () => {
  let nats: Awaited<ReturnType<typeof natsForTests>>;
  let conn: Connection;
  const dirs: string[] = [];
  const syncs: FileSync[] = [];
  const tmp = (p: string) => {
    const d = mkdtempSync(join(tmpdir(), p));
    dirs.push(d);
    return d;
  };
  /** Writes a file whole (temp + rename, as deployment tools do). */
  const write = (root: string, rel: string, text: string) => {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, `${rel}.tmp`), text);
    renameSync(join(root, `${rel}.tmp`), join(root, rel));
  };
  /** A store with its own buckets, synced from `roots`, and an agent client of it. */
  const setup = async (roots: Record<string, string[]>) => {
    const bucket = uniqueName("fs");
    const indexBucket = uniqueName("fsidx");
    const uploads = counter(conn, `$O.${bucket}.M.>`);
    const gets = counter(conn, `$JS.API.DIRECT.GET.OBJ_${bucket}.>`);
    const chunkGets = counter(conn, `$JS.API.DIRECT.GET.OBJ_${bucket}`);
    await flush(conn);
    const sync = await startFileServer(conn, {
      roots,
      replicas: 1,
      log: silent,
      pollMs: 50,
      bucket,
      indexBucket,
    });
    syncs.push(sync);
    const stateDir = tmp("agent-");
    const client = await agentFileClient(
      conn,
      { file_client: "remote", file_roots: {}, state_dir: stateDir },
      { bucket, indexBucket },
    );
    return { bucket, indexBucket, sync, client, uploads, gets, chunkGets, stateDir };
  };

  before(async () => {
    nats = await natsForTests();
    conn = await openConnection({ servers: [nats.url], name: "fileserver-test" });
  });
  after(async () => {
    for (const s of syncs) await s.stop();
    await conn?.close();
    await nats?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  void it("uploads file_roots (first root wins per path), never re-uploads an unchanged file, follows changes and removals", async () => {
    const r1 = tmp("root1-");
    const r2 = tmp("root2-");
    const r3 = tmp("root3-");
    write(r1, "top.sls", "one");
    write(r1, "web/nginx.conf", "r1 nginx");
    write(r2, "web/nginx.conf", "r2 nginx (hidden by r1)");
    write(r2, "web/extra.txt", "extra");
    mkdirSync(join(r2, "empty"));
    symlinkSync(join(r2, "web/extra.txt"), join(r2, "link.txt")); // served as the file it names
    write(r3, "dev.sls", "dev");
    const s = await setup({ base: [r1, r2], dev: [r3] });
    await flush(conn);
    assert.equal(s.uploads.n, 5, `5 files uploaded, got ${s.uploads.names.join(", ")}`);
    assert.deepEqual(await s.client.list("base"), ["link.txt", "top.sls", "web/extra.txt", "web/nginx.conf"]);
    assert.equal(await s.client.read("salt://link.txt", "base"), "extra");
    assert.deepEqual(
      await localFileClient({ base: [r1, r2] }).list("base"),
      await s.client.list("base"),
      "the local client lists the same",
    );
    assert.deepEqual(
      await localFileClient({ base: [r1, r2] }).listDirs("base"),
      await s.client.listDirs("base"),
    );
    assert.deepEqual(await s.client.listDirs("base"), ["empty", "web"]);
    assert.deepEqual(await s.client.envs(), ["base", "dev"]);
    assert.equal(await s.client.read("salt://web/nginx.conf", "base"), "r1 nginx");
    assert.equal(await s.client.read("salt://dev.sls", "dev"), "dev");
    assert.equal(await s.client.read("salt://dev.sls", "base"), undefined);

    // a full pass over an unchanged tree uploads nothing
    const again = await s.sync.syncNow();
    await flush(conn);
    assert.deepEqual(again, { uploaded: 0, deleted: 0, unchanged: 5, skipped: [] });
    assert.equal(s.uploads.n, 5);

    // a change reaches the store (polled); only the changed file is uploaded
    const t0 = Date.now();
    write(r1, "top.sls", "two");
    await waitFor(async () => (await s.client.read("salt://top.sls", "base")) === "two", {
      what: "the change in the store",
    });
    const changeMs = Date.now() - t0;
    await flush(conn);
    assert.equal(s.uploads.n, 6);
    // removing r1's copy uncovers r2's
    unlinkSync(join(r1, "web/nginx.conf"));
    await waitFor(
      async () => (await s.client.read("salt://web/nginx.conf", "base")) === "r2 nginx (hidden by r1)",
      { what: "r2's copy" },
    );
    // a removed file leaves the index and the store
    unlinkSync(join(r2, "web/extra.txt"));
    await waitFor(async () => !(await s.client.list("base")).includes("web/extra.txt"), {
      what: "the removal",
    });
    await assert.rejects(s.client.cache("salt://web/extra.txt", "base"), FileServerError);
    console.log(`# a change reached the store in ${changeMs} ms (poll 50 ms)`);

    // the service restarted (or reloaded) without the dev environment: its files leave the store
    await s.sync.stop();
    const next = await startFileServer(conn, {
      roots: { base: [r1, r2] },
      replicas: 1,
      log: silent,
      pollMs: 50,
      bucket: s.bucket,
      indexBucket: s.indexBucket,
    });
    syncs.push(next);
    assert.deepEqual(await s.client.envs(), ["base"]);
    assert.deepEqual(await s.client.list("dev"), []);
    assert.equal(
      await bindObjectReader(conn, s.bucket).get("dev/dev.sls"),
      undefined,
      "the object is deleted",
    );
    assert.ok(await bindObjectReader(conn, s.bucket).get("base/top.sls"));
    await assert.rejects(
      s.client.cache("salt://dev.sls", "dev"),
      /no such file in saltenv "dev" \(searched no roots: the environment is not in file_roots\)/,
    );
    assert.equal(await s.client.read("salt://top.sls", "base"), "two");

    // a root that cannot be read (unmounted, moved away) keeps the environment's store copy
    renameSync(r1, `${r1}.away`);
    const skipped = await next.syncNow();
    assert.deepEqual(skipped, {
      uploaded: 0,
      deleted: 0,
      unchanged: 0,
      skipped: [{ env: "base", unreadable: [r1] }],
    });
    assert.equal(await s.client.read("salt://top.sls", "base"), "two");
    renameSync(`${r1}.away`, r1);
    // a replica without file_roots does not empty the store
    const empty = await startFileServer(conn, {
      roots: {},
      replicas: 1,
      log: silent,
      pollMs: 50,
      bucket: s.bucket,
      indexBucket: s.indexBucket,
    });
    syncs.push(empty);
    assert.deepEqual(await empty.syncNow(), { uploaded: 0, deleted: 0, unchanged: 0, skipped: [] });
    assert.deepEqual(await s.client.envs(), ["base"]);
    assert.equal(await s.client.read("salt://top.sls", "base"), "two");
  });

  void it("the agent's client downloads a file once, again only when it changed; a missing file names the path and the roots searched", async () => {
    const r1 = tmp("root1-");
    write(r1, "files/motd", "hello");
    const s = await setup({ base: [r1] });
    await flush(conn);
    const before = s.gets.n + s.chunkGets.n;
    const p1 = await s.client.cache("salt://files/motd", "base");
    assert.equal(p1, join(s.stateDir, "files", "base", "files", "motd"));
    assert.equal(readFileSync(p1, "utf8"), "hello");
    await flush(conn);
    const afterFirst = s.gets.n + s.chunkGets.n;
    assert.equal(afterFirst - before, 2, "one meta get and one chunk get");
    assert.equal(await s.client.cache("salt://files/motd", "base"), p1);
    assert.equal(await s.client.read("files/motd", "base"), "hello");
    await flush(conn);
    assert.equal(s.gets.n + s.chunkGets.n, afterFirst, "an unchanged file is not downloaded again");
    assert.deepEqual(await s.client.hash("salt://files/motd", "base"), {
      hash_type: "sha256",
      hsum: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    });

    write(r1, "files/motd", "changed");
    await waitFor(
      async () =>
        (await s.client.hash("salt://files/motd", "base"))?.hsum !==
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      { what: "the change" },
    );
    assert.equal(await s.client.read("salt://files/motd", "base"), "changed");
    await flush(conn);
    assert.equal(s.gets.n + s.chunkGets.n, afterFirst + 2, "the changed file is downloaded once");
    // a cached copy edited on the agent is not taken for the served file: downloaded again
    writeFileSync(p1, "edited on the agent");
    assert.equal(await s.client.read("salt://files/motd", "base"), "changed");
    await flush(conn);
    assert.equal(s.gets.n + s.chunkGets.n, afterFirst + 4, "the edited copy is replaced by one download");

    // a file of several chunks (128 KiB each) comes back whole, one get per chunk plus the meta record
    const big = Buffer.alloc(300 * 1024, "0123456789abcdef").toString();
    write(r1, "big.bin", big);
    await waitFor(async () => (await s.client.list("base")).includes("big.bin"), { what: "the big file" });
    await flush(conn);
    const beforeBig = s.gets.n + s.chunkGets.n;
    assert.equal(readFileSync(await s.client.cache("salt://big.bin", "base"), "utf8"), big);
    await flush(conn);
    assert.equal(s.gets.n + s.chunkGets.n - beforeBig, 1 + 3);

    const local = localFileClient({ base: [r1] });
    const texts = await Promise.all(
      [s.client, local].map((c: FileClient) =>
        c.cache("salt://nope.conf", "base").then(
          () => "no error",
          (e: Error) => `${e.name}: ${e.message}`,
        ),
      ),
    );
    assert.equal(
      texts[0],
      `FileServerError: salt://nope.conf: no such file in saltenv "base" (searched ${r1})`,
    );
    assert.equal(texts[0], texts[1]);
    const noEnv = await s.client.cache("salt://x", "prod").catch((e: Error) => e.message);
    assert.equal(noEnv, await local.cache("salt://x", "prod").catch((e: Error) => e.message));
    await assert.rejects(s.client.cache("salt://../etc/passwd", "base"), /invalid salt:\/\/ path/);
    await assert.rejects(s.client.cache("salt://x?saltenv=../../etc", "base"), /invalid saltenv/);
  });

  void it("two replicas syncing the same file_roots converge (no lock: same content, same digest); readers get whole versions only", async () => {
    const r1 = tmp("root1-");
    const version = (i: number) => String.fromCharCode(97 + i).repeat(200 * 1024); // 2 chunks
    write(r1, "rot.txt", version(0));
    const s = await setup({ base: [r1] });
    const other = await startFileServer(conn, {
      roots: { base: [r1] },
      replicas: 1,
      log: silent,
      pollMs: 30,
      bucket: s.bucket,
      indexBucket: s.indexBucket,
    });
    syncs.push(other);
    const other2 = await agentFileClient(
      conn,
      { file_client: "remote", file_roots: {}, state_dir: tmp("agent2-") },
      { bucket: s.bucket, indexBucket: s.indexBucket },
    );
    let reading = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (reading) {
        const text = await other2.read("salt://rot.txt", "base");
        assert.ok(
          text !== undefined && text.length === 200 * 1024 && new Set(text).size === 1,
          "a whole version",
        );
        seen.add(text[0]!);
      }
    })();
    for (let i = 1; i <= 6; i++) {
      write(r1, "rot.txt", version(i));
      await waitFor(
        async () =>
          (await s.client.hash("rot.txt", "base"))?.hsum ===
          createHash("sha256").update(version(i)).digest("hex"),
        { what: `version ${i}` },
      );
    }
    reading = false;
    await reader;
    assert.ok(seen.size >= 2, `the reader saw several versions: ${[...seen].join("")}`);
    assert.equal(await other2.read("salt://rot.txt", "base"), version(6));
    // settled: a full pass of either replica finds nothing to do
    for (const r of [s.sync, other])
      assert.deepEqual(await r.syncNow(), { uploaded: 0, deleted: 0, unchanged: 1, skipped: [] });
  });

  void it("cp.get_file, cp.cache_file, cp.get_file_str, cp.hash_file, cp.list_master(_dirs) through the executor", async () => {
    const r1 = tmp("root1-");
    write(r1, "conf/app.ini", "[app]\nx=1\n");
    const s = await setup({ base: [r1] });
    const exec = createExecutor({
      config: testConfig(),
      registry: createBuiltinRegistry(),
      emit: new RecordingSink(),
      serviceManager: noServices,
      files: s.client,
    });
    const dest = tmp("dest-");
    const run = async (fun: string, arg: unknown[], kwarg: Record<string, unknown> = {}) => {
      const r = await exec.run(job(fun, arg, kwarg));
      assert.equal(r.success, true, JSON.stringify(r.return));
      return r.return;
    };
    assert.equal(
      await run("cp.get_file", ["salt://conf/app.ini", join(dest, "app.ini")]),
      join(dest, "app.ini"),
    );
    assert.equal(readFileSync(join(dest, "app.ini"), "utf8"), "[app]\nx=1\n");
    assert.equal(await run("cp.get_file", ["salt://conf/app.ini", `${dest}/`]), join(dest, "app.ini"));
    assert.equal(
      await run("cp.get_file", ["salt://conf/app.ini", join(dest, "a/b/c.ini")]),
      false,
      "no makedirs: no file",
    );
    assert.equal(existsSync(join(dest, "a")), false);
    assert.equal(
      await run("cp.get_file", ["salt://conf/app.ini", join(dest, "a/b/c.ini")], { makedirs: true }),
      join(dest, "a/b/c.ini"),
    );
    assert.equal(await run("cp.get_file", ["salt://conf/none.ini", join(dest, "n.ini")]), "");
    assert.equal(
      await run("cp.cache_file", ["salt://conf/app.ini"]),
      join(s.stateDir, "files", "base", "conf", "app.ini"),
    );
    assert.equal(await run("cp.cache_file", ["salt://conf/none.ini"]), false);
    assert.equal(await run("cp.get_file_str", ["salt://conf/app.ini"]), "[app]\nx=1\n");
    assert.deepEqual(
      await run("cp.hash_file", ["salt://conf/app.ini"]),
      (await s.client.hash("conf/app.ini", "base")) as object,
    );
    assert.deepEqual(await run("cp.hash_file", ["salt://conf/none.ini"]), {});
    assert.deepEqual(await run("cp.list_master", []), ["conf/app.ini"]);
    assert.deepEqual(await run("cp.list_master", [], { prefix: "x" }), []);
    assert.deepEqual(await run("cp.list_master_dirs", ["base"]), ["conf"]);
    assert.deepEqual(await run("cp.envs", []), ["base"]);
    const r = await exec.run(job("cp.get_file", ["salt://conf/app.ini", "rel/path"]));
    assert.equal(r.success, false);
    assert.match(String(r.return), /dest must be an absolute path/);
  });
});

void describe("salt:// in the reactor map, and file_client: local", () => {
  void it("reactor validate and reactor test resolve salt:// in the base env of file_roots (first root wins); a missing file names the roots", async () => {
    const dir = await fixtureDir("fileserver");
    try {
      mkdirSync(join(dir, "first", "reactor"), { recursive: true });
      writeFileSync(
        join(dir, "first", "reactor", "echo.sls"),
        "first_root_wins:\n  local.test.echo:\n    - tgt: {{ data['host'] }}\n    - arg: [ first ]\n",
      );
      const cfg = join(dir, "reactor.yaml");
      writeFileSync(cfg, readFileSync(cfg, "utf8").replace("base: [salt]", "base: [first, salt]"));
      const v = await runCli(["validate", "-c", cfg]);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      const t = await runCli([
        "test",
        "myco/fs/echo",
        JSON.stringify({ host: "web1", text: "hi" }),
        "-c",
        cfg,
        "--json",
      ]);
      assert.equal(t.code, 0, t.stderr);
      const out = JSON.parse(t.stdout) as {
        reactions: { id: string; file: string; tgt: string; arg: unknown[] }[];
      };
      assert.deepEqual(
        out.reactions.map((r) => [r.id, r.file, r.tgt, r.arg]),
        [["first_root_wins", "salt://reactor/echo.sls", "web1", ["first"]]],
      );

      writeFileSync(
        cfg,
        readFileSync(cfg, "utf8").replace("salt://reactor/echo.sls", "salt://reactor/gone.sls"),
      );
      const bad = await runCli(["validate", "-c", cfg]);
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr + bad.stdout,
        /reactor\.yaml:7: reactor\[0\]\.myco\/fs\/echo names a file that does not exist: "salt:\/\/reactor\/gone\.sls" \(searched file_roots base: .*first, .*salt\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("reactor serve serves its file_roots to agents (salt:// map entry compiled) and follows a file_roots change on reload", async () => {
    const nats = await natsForTests();
    const dir = await fixtureDir("fileserver");
    let service: Awaited<ReturnType<typeof startService>> | undefined;
    let conn: Connection | undefined;
    try {
      service = await startService({ configPath: join(dir, "reactor.yaml"), nats: nats.url, log: silent });
      assert.deepEqual(
        service.engine.config.reactor.map((e) => e.sls.flatMap((r) => r.files.map((f) => f.path))),
        [["salt://reactor/echo.sls"]],
      );
      conn = await openConnection({ servers: [nats.url] });
      const client = await agentFileClient(conn, {
        file_client: "remote",
        file_roots: {},
        state_dir: join(dir, "agent"),
      });
      assert.equal(await client.read("salt://files/motd", "base"), "served by the file server\n");
      mkdirSync(join(dir, "other", "files"), { recursive: true });
      writeFileSync(join(dir, "other", "files", "motd"), "from the other root\n");
      const cfg = join(dir, "reactor.yaml");
      writeFileSync(cfg, readFileSync(cfg, "utf8").replace("base: [salt]", "base: [other, salt]"));
      await service.reload();
      await waitFor(
        async () => (await client.read("salt://files/motd", "base")) === "from the other root\n",
        { what: "the new root's copy" },
      );
    } finally {
      await service?.stop();
      await conn?.close();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("an agent with file_client: local serves its own file_roots (no NATS needed)", async () => {
    const root = mkdtempSync(join(tmpdir(), "local-roots-"));
    try {
      writeFileSync(join(root, "motd"), "local motd");
      const client = await agentFileClient(undefined as unknown as Connection, {
        file_client: "local",
        file_roots: { base: [root] },
        state_dir: root,
      });
      assert.equal(await client.cache("salt://motd", "base"), join(root, "motd"));
      assert.deepEqual(await client.list("base"), ["motd"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};
