import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileServiceConfig } from "../../src/config/index.js";
import { ConfigErrors } from "../../src/core/errors.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FILE = "test/fixtures/reactor/reactor.yaml";
const messages = (text: string): string[] => {
  try {
    compileServiceConfig(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, String(err));
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected ConfigErrors");
};

void describe("compileServiceConfig", () => {
  void it("fills every default and freezes the result", () => {
    const c = compileServiceConfig("{}", FILE);
    assert.deepEqual({ ...c, reactor: [...c.reactor] }, {
      file: FILE,
      nats: { servers: ["nats://127.0.0.1:4222"], insecure: false },
      stream: { name: "EVENTS", replicas: 1, max_age: 604800, max_bytes: 1073741824, duplicate_window: 120, storage: "file" },
      consumer: { durable: "reactor", ack_wait: 30, max_deliver: 100, max_ack_pending: 1000 },
      reactor: [],
      file_roots: {},
      keys: {
        auto_accept: false,
        autosign: [],
        autoreject: [],
        autosign_grains: {},
        service_key: "/var/lib/nats-reactor/service/service.nk",
        admin_keys: [],
        verify_events: true,
        max_pending: 500,
        new_id_rate: 10,
        new_id_burst: 200,
        new_id_prefix_rate: 5,
        new_id_prefix_burst: 100,
      },
      limits: { max_event_bytes: 1048576, max_depth: 5, concurrency: 64, queue: 10000, dispatch_retries: 3, per_source_rate: 200, per_source_burst: 1000 },
      logging: { level: "info" },
      metrics: {},
    });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.stream) && Object.isFrozen(c.keys.autosign));
  });

  void it("compiles file_roots (Salt's names; dirs against the file) and resolves salt:// map paths in base, first root wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "roots-"));
    try {
      mkdirSync(join(dir, "one", "reactor"), { recursive: true });
      mkdirSync(join(dir, "two", "reactor"), { recursive: true });
      writeFileSync(join(dir, "one", "reactor", "a.sls"), "a:\n  local.test.ping:\n    - tgt: one\n");
      writeFileSync(join(dir, "two", "reactor", "a.sls"), "a:\n  local.test.ping:\n    - tgt: two\n");
      writeFileSync(join(dir, "two", "reactor", "b.sls"), "b:\n  local.test.ping:\n    - tgt: b\n");
      const file = join(dir, "reactor.yaml");
      const c = compileServiceConfig(
        "file_roots:\n  base: [one, two]\n  dev: /srv/dev\nreactor:\n  - 'x/*': [salt://reactor/a.sls, 'salt://reactor/b.sls?saltenv=base']\n",
        file,
      );
      assert.deepEqual(c.file_roots, { base: [join(dir, "one"), join(dir, "two")], dev: ["/srv/dev"] });
      const files = c.reactor[0]!.sls.flatMap((r) => r.files.map((f) => [f.path, f.absPath]));
      assert.deepEqual(files, [
        ["salt://reactor/a.sls", join(dir, "one", "reactor", "a.sls")],
        ["salt://reactor/b.sls?saltenv=base", join(dir, "two", "reactor", "b.sls")],
      ]);
      assert.throws(
        () => compileServiceConfig("file_roots:\n  base: [one]\nreactor:\n  - 'x/*': [salt://reactor/b.sls]\n", file),
        (err: Error) => err.message.includes(`reactor.yaml:4: reactor[0].x/*[0] names a file that does not exist: "salt://reactor/b.sls" (searched file_roots base: ${join(dir, "one")})`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("refuses bad file_roots and salt:// without a base environment, naming file:line:field", () => {
    assert.deepEqual(messages("file_roots:\n  base: {a: 1}\n  'b/c': [x]\n"), [
      `${FILE}:2: file_roots.base must be a non-empty list of directories`,
      `${FILE}:3: file_roots.b/c must be an environment name of letters, digits, '_' or '-'`,
    ]);
    assert.deepEqual(messages("file_roots: {dev: [x]}\nreactor:\n  - 'x': [salt://a.sls]\n"), [
      `${FILE}:3: reactor[0].x[0] uses "salt://a.sls": file_roots has no base environment to resolve salt:// paths`,
    ]);
    assert.deepEqual(messages("file_roots: {base: [x]}\nreactor:\n  - 'x': ['salt://a.sls?saltenv=dev', salt://../a.sls]\n"), [
      `${FILE}:3: reactor[0].x[0] uses "salt://a.sls?saltenv=dev": reactor files come from the base environment of file_roots`,
      `${FILE}:3: reactor[0].x[1] invalid salt:// path "salt://../a.sls"`,
    ]);
  });

  void it("parses durations and sizes", () => {
    const c = compileServiceConfig("stream: {max_age: 10m, max_bytes: 512KiB, duplicate_window: 90}\nlimits: {max_event_bytes: 2MB}\n", FILE);
    assert.deepEqual([c.stream.max_age, c.stream.max_bytes, c.stream.duplicate_window, c.limits.max_event_bytes], [600, 524288, 90, 2000000]);
  });

  void it("reads a map in a file of its own", () => {
    const c = compileServiceConfig("reactor: map.yaml\n", FILE);
    assert.deepEqual(c.reactor.map((e) => e.tag), ["salt/minion/*/start", "salt/beacon/*/service/*"]);
    assert.ok(c.reactor_map_file?.endsWith("test/fixtures/reactor/map.yaml"));
    assert.equal(c.reactor[1]!.throttle?.renderKey({ tag: "t", data: { id: "web1", service_name: "nginx" } }), "web1/nginx");
    assert.deepEqual([c.reactor[1]!.throttle?.max, c.reactor[1]!.throttle?.per], [3, 600]);
  });

  void it("collects every error with file:line and field path", () => {
    const text = [
      "nats:", //                                    1
      "  servers: 5", //                             2
      "streem: {}", //                               3
      "limits:", //                                  4
      "  queue: -1", //                              5
      "reactor:", //                                 6
      "  - 'salt/minion/*/start': [reactors/highstate.sls]", // 7
      "  - tag: 'salt/beacon/*'", //                 8
      "    sls: reactors/nope.sls", //               9
      "    throttle: {key: '{{ data.id }}', max: 0, per: soon}", // 10
      "    when: {frobnicate: 1}", //                11
      "    glob: regex", //                          12
    ].join("\n");
    assert.deepEqual(messages(text), [
      `${FILE}:3: streem is not a known field (did you mean stream?)`,
      `${FILE}:12: reactor[1].glob must be one of fnmatch, path, got "regex"`,
      `${FILE}:11: reactor[1].when is not a valid condition: unknown operator "frobnicate"`,
      `${FILE}:9: reactor[1].sls names a file that does not exist: "reactors/nope.sls"`,
      `${FILE}:10: reactor[1].throttle.max must be a positive integer`,
      `${FILE}:10: reactor[1].throttle.per must be a positive duration such as 30s, 10m, 2h, 7d or a number of seconds, got "soon"`,
      `${FILE}:2: nats.servers must be a list of strings`,
      `${FILE}:5: limits.queue must be a positive integer`,
    ]);
  });

  void it("reports an SLS template syntax error with the SLS file and line", () => {
    const m = messages("reactor:\n  - 'x': [reactors/bad-syntax.sls]\n");
    assert.equal(m.length, 1);
    assert.match(m[0]!, /^reactors\/bad-syntax\.sls:2: /);
  });

  void it("rejects a Salt-form entry with several keys and a glob matching no file", () => {
    assert.deepEqual(messages("reactor:\n  - a: [x.sls]\n    b: [y.sls]\n  - 'c': ['reactors/zz*.sls']\n"), [
      `${FILE}:2: reactor[0] must have \`tag:\` or exactly one key (Salt's form \`'<tag glob>': [sls files]\`), found 2 keys`,
      `${FILE}:4: reactor[1].c[0] matches no file: "reactors/zz*.sls"`,
    ]);
  });
});

void describe("compileServiceConfig nats.auth", () => {
  void it("compiles nats.auth and nats.insecure, paths against the file; users_file is required; salt/ custom events refused", () => {
    const c = compileServiceConfig("nats:\n  insecure: true\n  auth: { users_file: auth.conf, server_pid_file: /run/nats.pid, custom_events: [myco/] }\n", FILE);
    assert.equal(c.nats.insecure, true);
    assert.equal(c.nats.auth?.users_file.endsWith("/auth.conf"), true);
    assert.equal(c.nats.auth?.server_pid_file, "/run/nats.pid");
    assert.deepEqual(c.nats.auth?.custom_events, ["myco/"]);
    assert.throws(() => compileServiceConfig("nats:\n  auth: { custom_events: [salt/x] }\n", FILE), (err: Error) => {
      assert.match(err.message, /nats\.auth\.users_file is required/);
      assert.match(err.message, /nats\.auth\.custom_events\[0\] must be a tag prefix outside salt\/ and reactor\//);
      return true;
    });
  });
});
