/**
 * The JSON Schemas in schemas/ (used by editors through `# yaml-language-server: $schema=...`)
 * agree with the compilers: every example and every valid fixture passes its schema, and typical
 * mistakes fail with the field path and line the compile step would name.
 */
import { readFileSync } from "node:fs";
import { repoRoot } from "../helpers/paths.js";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { Ajv } from "ajv";
import { ConfigError, ConfigErrors } from "../../src/core/errors.js";
import { assertSchema, checkSchema, compileAgentConfig, compileServiceConfig, loadSchema, parseYaml, SCHEMA_NAMES, type SchemaName } from "../../src/config/index.js";
import { withMessages } from "../../src/config/schema-check.js";
import { compileBeacons } from "../../src/beacons/index.js";

const ROOT = repoRoot();

function errorsOf(name: SchemaName, text: string, file = `${name}.yaml`): string[] {
  return checkSchema(name, parseYaml(text, file)).map((e) => e.message);
}

void describe("schemas/*.schema.json", () => {
  void it("each schema is a valid draft-07 schema that ajv compiles in strict mode", () => {
    for (const name of SCHEMA_NAMES) {
      const schema = loadSchema(name);
      assert.equal(schema["$schema"], "http://json-schema.org/draft-07/schema#");
      assert.doesNotThrow(() => withMessages(new Ajv({ strict: true, allowUnionTypes: true })).compile(schema), name);
    }
  });

  void it("every example file names its schema and passes it", () => {
    const files: [SchemaName, string][] = [
      ["reactor", "reactors/reactor.yaml"],
      ["agent", "examples/agent.yaml"],
      ["beacons", "beacons.yaml"],
    ];
    for (const [name, file] of files) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const up = file.includes("/") ? "../" : "";
      assert.ok(text.startsWith(`# yaml-language-server: $schema=${up}schemas/${name}.schema.json\n`), `${file} names its schema`);
      assert.deepEqual(errorsOf(name, text, file), [], file);
    }
  });

  void it("the reactor.yaml fixtures that the tests compile pass the schema", () => {
    for (const file of ["test/fixtures/reactor/reactor.yaml", "test/fixtures/service/reactor.yaml"]) {
      const text = readFileSync(join(ROOT, file), "utf8");
      assert.doesNotThrow(() => compileServiceConfig(text, join(ROOT, file)), file);
      assert.deepEqual(errorsOf("reactor", text, file), [], file);
    }
  });

  void it("Salt's beacons forms from the docs pass, and compile", () => {
    const text = [
      "beacons:",
      "  enabled: true",
      "  service:",
      "    - services:",
      "        nginx:",
      "        sshd: { onchangeonly: true, delay: 5, uncleanshutdown: /run/sshd.pid }",
      "    - interval: 30",
      "  diskusage:",
      "    - '/': 63%",
      "    - '^/mnt/.*': 90",
      "  load: { averages: { 1m: [0.0, 2.0] }, onchangeonly: true }",
      "  memusage: [ { percent: 63% } ]",
      "  swapusage: [ { percent: 13% } ]",
      "  ps: [ { processes: { nginx: running, mysqld: stopped } } ]",
      "  status: [ { loadavg: ['1-min'] }, { uptime: all } ]",
      "  log: [ { file: /var/log/auth.log }, { tags: { sshd: { regex: '.*sshd.*' } } } ]",
      "  network_info: [ { interfaces: { eth0: { type: greater, bytes_sent: 100000 } } } ]",
      "  journald: [ { services: { sshd: { SYSLOG_IDENTIFIER: sshd, PRIORITY: 6 } } } ]",
      "  inotify:",
      "    - files: { /etc/nginx/nginx.conf: { mask: [ IN_MODIFY, close_write ] }, /srv: { recurse: true, exclude: [ /srv/tmp ] } }",
      "    - disable_during_state_run: true",
      "  web_health:",
      "    beacon_module: http_status",
      "    sites: { api: { url: 'http://127.0.0.1:8080/health', status: [200, 204], json_response: { status: ok } } }",
    ].join("\n");
    const src = parseYaml(text, "beacons.yaml");
    assert.deepEqual(compileBeacons(src).errors, []);
    assert.deepEqual(errorsOf("beacons", text), []);
  });

  void it("agent files the compiler accepts pass, including Salt's three mine_functions forms", () => {
    const text = [
      "id: web1.example.com",
      "nats: { servers: nats://10.0.0.1:4222, creds: agent.creds }",
      "mine_functions:",
      "  network.ip_addrs: [ eth0 ]",
      "  grains.items:",
      "  internal_ip: { mine_function: network.ip_addrs, cidr: 10.0.0.0/8 }",
      "mine_interval: 90s",
      "job_timeout: 2m",
      "services: { web: { check: [ 'true' ], start: [ 'true' ], stop: [ 'true' ], reload: [ kill, -HUP, '1' ] } }",
    ].join("\n");
    assert.doesNotThrow(() => compileAgentConfig(text, "agent.yaml", { hostname: "h" }));
    assert.deepEqual(errorsOf("agent", text), []);
  });
});

void describe("schema errors name file:line and the field path", () => {
  const cases: [SchemaName, string, string][] = [
    ["reactor", "nats:\n  server: [ nats://x:4222 ]\n", "reactor.yaml:2: nats.server is not a known field (did you mean servers?)"],
    ["reactor", "stream:\n  replicas: 0\n", "reactor.yaml:2: stream.replicas must be >= 1"],
    ["reactor", "stream: { max_age: soon }\n", "reactor.yaml:1: stream.max_age must be a positive duration such as 30s, 10m, 2h, 7d or a number of seconds"],
    ["reactor", "logging: { level: loud }\n", 'reactor.yaml:1: logging.level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"'],
    ["reactor", "reactor:\n  - 'salt/auth': [ a.sls ]\n  - tag: salt/minion/*/start\n", "reactor.yaml:3: reactor[1] needs `sls:`"],
    ["reactor", "reactor:\n  - tag: x\n    sls: a.sls\n    throttle: { key: k, max: 0, per: 1m }\n", "reactor.yaml:4: reactor[0].throttle.max must be >= 1"],
    ["reactor", "reactor:\n  - tag: x\n    sls: a.sls\n    glob: regex\n", 'reactor.yaml:4: reactor[0].glob must be one of fnmatch, path, got "regex"'],
    ["reactor", "reactor:\n  - tag: x\n    sls: []\n", "reactor.yaml:3: reactor[0].sls must be an SLS path or a non-empty list of them, relative to this file or salt://"],
    ["reactor", "file_roots:\n  base: 7\n", "reactor.yaml:2: file_roots.base must be a non-empty list of directories"],
    ["agent", "file_client: master\n", 'agent.yaml:1: file_client must be one of local, remote, got "master"'],
    ["reactor", "http:\n  listen: 127.0.0.1:8080\n  hooks:\n    deploy: {}\n", "reactor.yaml:4: http.hooks.deploy needs `token:` or `hmac:` (hooks without authentication are not served)"],
    ["beacons", "beacons:\n  diskusage:\n    - '/': 200%\n", 'beacons.yaml:3: beacons.diskusage[0]./ must be a percentage like "90%"'],
    ["reactor", "limits: { max_event_bytes: lots }\n", "reactor.yaml:1: limits.max_event_bytes must be a positive size such as 512KiB, 1MiB, 1GiB or a number of bytes"],
    ["agent", "service_manager: upstart\n", 'agent.yaml:1: service_manager must be one of auto, systemd, command, got "upstart"'],
    ["agent", "services:\n  web:\n    check: [ 'true' ]\n    start: []\n    stop: [ 'true' ]\n", "agent.yaml:4: services.web.start must NOT have fewer than 1 items"],
    ["agent", "id: web 1\n", 'agent.yaml:1: id must match pattern "^[^\\s/*>]{1,255}$"'],
    ["agent", "buffer: { max_event: 10 }\n", "agent.yaml:1: buffer.max_event is not a known field (did you mean max_events?)"],
    ["beacons", "beacons:\n  service:\n    - services:\n        nginx: { onchangeonly: 'yes' }\n", "beacons.yaml:4: beacons.service[0].services.nginx.onchangeonly must be of type boolean"],
    ["beacons", "beacons:\n  load:\n    - averages: { 1m: [0, 2] }\n    - interval: 0.5\n", "beacons.yaml:4: beacons.load[1].interval must be >= 1"],
    ["beacons", "beacons:\n  inotify:\n    files:\n      /etc: { recurce: true }\n", "beacons.yaml:4: beacons.inotify.files./etc.recurce is not a known field (did you mean recurse?)"],
    ["beacons", "beacons:\n  disk:\n    beacon_module: diskusag\n", 'beacons.yaml:3: beacons.disk.beacon_module must be one of service, inotify, diskusage, load, memusage, swapusage, ps, status, log, network_info, http_status, journald, got "diskusag"'],
    ["beacons", "becons:\n  load: {}\n", "beacons.yaml:1: becons is not a known field (did you mean beacons?)"],
  ];
  for (const [name, text, want] of cases) {
    void it(want, () => {
      assert.deepEqual(errorsOf(name, text), [want]);
    });
  }

  void it("each mistake is also refused by the compiler, under the same top-level field", () => {
    for (const [name, text, want] of cases) {
      const path = /^\S+:\d+: (\S+)/.exec(want)![1]!;
      const messages = compileErrors(name, text);
      assert.ok(messages.length > 0, `the compiler accepts: ${text}`);
      assert.ok(messages.some((m) => m.includes(path.replace(/\[\d+\]\.interval$/, ".interval").split("[")[0]!.split(".")[0]!)), `${want} / ${messages.join("; ")}`);
    }
  });

  void it("assertSchema throws ConfigErrors listing every problem in file order", () => {
    const src = parseYaml("limits:\n  queue: 0\nlogging: { level: loud }\nextra: 1\n", "r.yaml");
    assert.throws(
      () => assertSchema("reactor", src),
      (err: unknown) =>
        err instanceof ConfigErrors &&
        err.errors.every((e) => e instanceof ConfigError) &&
        err.errors.map((e) => [e.location.line, e.location.path]).join(" ") === "2,limits.queue 3,logging.level 4,extra",
    );
  });
});

function compileErrors(name: SchemaName, text: string): string[] {
  try {
    if (name === "reactor") compileServiceConfig(text, "reactor.yaml");
    else if (name === "agent") compileAgentConfig(text, "agent.yaml", { hostname: "h" });
    else return compileBeacons(parseYaml(text, "beacons.yaml")).errors.map((e) => e.message);
    return [];
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((e) => e.message);
    return [String(err)];
  }
}
