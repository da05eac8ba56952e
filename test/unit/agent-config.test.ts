import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileAgentConfig, loadAgentConfig } from "../../src/config/index.js";
import { ConfigError, ConfigErrors } from "../../src/core/index.js";

const FULL = `id: web1
nats: { servers: [ "nats://10.0.0.1:4222" ], creds: keys/agent.creds }
state_dir: state
beacons_file: /etc/reactor/beacons.yaml
service_manager: command
services:
  demo-web:
    check: [ "curl", "-fsS", "http://127.0.0.1:8080/" ]
    start: [ "/usr/local/bin/demo-web", "--port", "8080" ]
    stop: [ "sh", "-c", "kill $(cat /run/demo-web.pid)" ]
modules_dir: modules
mine_functions: { network.ip_addrs: [], grains.items: null, addr: { mine_function: network.ip_addrs } }
mine_interval: 5
job_timeout: 2m
max_concurrent_jobs: 3
grains: { roles: [ web ] }
buffer: { max_events: 50 }
`;

function errorsOf(text: string): string[] {
  try {
    compileAgentConfig(text, "agent.yaml", { hostname: "host.example.com" });
  } catch (err) {
    assert.ok(err instanceof ConfigErrors);
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected ConfigErrors");
}

void describe("agent config", () => {
  void it("compiles every field, resolving paths against the file's folder", () => {
    const c = compileAgentConfig(FULL, "/etc/reactor/agent.yaml");
    assert.equal(c.id, "web1");
    assert.deepEqual(c.nats, { servers: ["nats://10.0.0.1:4222"], creds: "/etc/reactor/keys/agent.creds" });
    assert.equal(c.state_dir, "/etc/reactor/state");
    assert.equal(c.beacons_file, "/etc/reactor/beacons.yaml");
    assert.equal(c.service_manager, "command");
    assert.deepEqual(c.services["demo-web"]?.start, ["/usr/local/bin/demo-web", "--port", "8080"]);
    assert.equal(c.modules_dir, "/etc/reactor/modules");
    assert.deepEqual(c.mine_functions, {
      "network.ip_addrs": [],
      "grains.items": [],
      addr: { mine_function: "network.ip_addrs" },
    });
    assert.equal(c.mine_interval, 300);
    assert.equal(c.job_timeout, 120);
    assert.equal(c.max_concurrent_jobs, 3);
    assert.deepEqual(c.grains, { roles: ["web"] });
    assert.deepEqual(c.buffer, { max_events: 50 });
    assert.ok(
      Object.isFrozen(c) && Object.isFrozen(c.services["demo-web"]) && Object.isFrozen(c.grains["roles"]),
    );
  });

  void it("compiles Salt's masterless options: file_client, file_roots, pillar_roots (dirs against the file)", () => {
    const c = compileAgentConfig(
      "file_client: local\nfile_roots:\n  base: [salt, /srv/more]\npillar_roots:\n  base: pillar\n",
      "/etc/reactor/agent.yaml",
      { hostname: "h1" },
    );
    assert.equal(c.file_client, "local");
    assert.deepEqual(c.file_roots, { base: ["/etc/reactor/salt", "/srv/more"] });
    assert.deepEqual(c.pillar_roots, { base: ["/etc/reactor/pillar"] });
    const d = compileAgentConfig("{}", "/etc/reactor/agent.yaml", { hostname: "h1" });
    assert.equal(d.file_client, "remote");
    assert.throws(
      () => compileAgentConfig("file_roots:\n  base: []\n", "/etc/reactor/agent.yaml", { hostname: "h1" }),
      /agent\.yaml:2: file_roots\.base must be a non-empty list of directories/,
    );
  });

  void it("fills defaults; the id defaults to the host name given", () => {
    const c = compileAgentConfig("{}", "/srv/a/agent.yaml", { hostname: "h1.example.com" });
    assert.equal(c.id, "h1.example.com");
    assert.deepEqual(c.nats, { servers: ["nats://127.0.0.1:4222"] });
    assert.equal(c.state_dir, "/var/lib/nats-reactor/agent");
    assert.equal(c.beacons_file, "/srv/a/beacons.yaml");
    assert.equal(c.service_manager, "auto");
    assert.deepEqual(c.services, {});
    assert.equal(c.modules_dir, undefined);
    assert.equal(c.mine_interval, 3600);
    assert.equal(c.job_timeout, 60);
    assert.equal(c.max_concurrent_jobs, 8);
    assert.deepEqual(c.buffer, { max_events: 10000 });
    assert.equal(c.mine_change_events, false);
    assert.deepEqual(c.haproxy, {});
  });

  void it("mine_change_events and haproxy.socket (relative to the file); bad values are errors", () => {
    const c = compileAgentConfig("mine_change_events: true\nhaproxy: { socket: run/haproxy.sock }\n", "/srv/a/agent.yaml", { hostname: "h" });
    assert.equal(c.mine_change_events, true);
    assert.deepEqual(c.haproxy, { socket: "/srv/a/run/haproxy.sock" });
    assert.deepEqual(errorsOf("mine_change_events: yes please\nhaproxy: { sock: x }\n"), [
      'agent.yaml:1: mine_change_events must be true or false, got "yes please"',
      "agent.yaml:2: haproxy.sock is not a known field (known: socket)",
    ]);
  });

  void it("nats.tls: CA, client certificate and key, relative to the file; cert without key is an error", () => {
    const c = compileAgentConfig("nats: { tls: { ca: tls/ca.pem, cert: tls/a.pem, key: /k/a.key } }\n", "/srv/a/agent.yaml", { hostname: "h" });
    assert.deepEqual(c.nats.tls, { ca: "/srv/a/tls/ca.pem", cert: "/srv/a/tls/a.pem", key: "/k/a.key" });
    assert.deepEqual(errorsOf("nats:\n  tls: { cert: a.pem, crl: x }\n"), [
      "agent.yaml:2: nats.tls.crl is not a known field (known: ca, cert, key)",
      "agent.yaml:2: nats.tls cert and key must be given together",
    ]);
  });

  void it("an empty file is all defaults", () => {
    assert.equal(compileAgentConfig("", "/x/agent.yaml", { hostname: "h" }).id, "h");
  });

  void it("overrides win over the file", () => {
    const c = compileAgentConfig(FULL, "/etc/reactor/agent.yaml", {
      overrides: { id: "other", servers: ["nats://n:1"], state_dir: "/tmp/s" },
    });
    assert.equal(c.id, "other");
    assert.deepEqual(c.nats.servers, ["nats://n:1"]);
    assert.equal(c.state_dir, "/tmp/s");
  });

  void it("names file:line and field path of every error, all collected", () => {
    const text = [
      "id: 'bad id'", // 1
      "nats: { servers: 5 }", // 2
      "service_manager: upstart", // 3
      "services:", // 4
      "  demo-web:", // 5
      "    check: [ curl ]", // 6
      "    start: []", // 7
      "    stop: [ 1 ]", // 8
      "    restrat: [ x ]", // 9
      "job_timeout: soon", // 10
      "max_concurrent_jobs: 0", // 11
      "buffer: { max_events: -1 }", // 12
      "colour: blue", // 13
    ].join("\n");
    assert.deepEqual(errorsOf(text), [
      "agent.yaml:13: colour is not a known field (known: id, nats, state_dir, beacons_file, service_manager, services, modules_dir, grains, mine_functions, mine_interval, mine_change_events, job_timeout, max_concurrent_jobs, buffer, metrics, haproxy, service_pub, service_finger, file_client, file_roots, pillar_roots)",
      "agent.yaml:1: id must be made of letters, digits, '.', '-' and '_', starting with a letter or a digit, at most 253 characters (the agent id rule)",
      "agent.yaml:2: nats.servers must be a URL or a non-empty list of URLs",
      "agent.yaml:3: service_manager must be one of auto, systemd, command",
      "agent.yaml:9: services.demo-web.restrat is not a known field (known: check, start, stop, restart, reload)",
      "agent.yaml:7: services.demo-web.start must be a non-empty list of strings",
      "agent.yaml:8: services.demo-web.stop must be a non-empty list of strings",
      "agent.yaml:10: job_timeout must be a positive number of seconds or a duration such as 30s, 10m, 1h",
      "agent.yaml:11: max_concurrent_jobs must be a positive integer",
      "agent.yaml:12: buffer.max_events must be a positive integer",
    ]);
  });

  void it("a single error is the whole message", () => {
    assert.throws(() => compileAgentConfig("services:\n  web: [ a ]\n", "agent.yaml"), {
      name: "ConfigErrors",
      message: "agent.yaml:2: services.web must be a map with check, start and stop commands",
    });
  });

  void it("a missing file is a ConfigError naming it; loadAgentConfig resolves relative paths", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-config-"));
    await assert.rejects(loadAgentConfig(join(dir, "nope.yaml")), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`^${join(dir, "nope.yaml")}: cannot read agent file: ENOENT`));
      return true;
    });
    await writeFile(join(dir, "agent.yaml"), "state_dir: st\n");
    const c = await loadAgentConfig(join(dir, "agent.yaml"));
    assert.equal(c.state_dir, join(dir, "st"));
    assert.ok(c.id.length > 0);
  });
});
