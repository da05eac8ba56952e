import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { ConfigError } from "../../src/core/index.js";
import { parseYaml } from "../../src/config/index.js";
import { compileBeacons } from "../../src/beacons/index.js";

const compile = (text: string) => compileBeacons(parseYaml(text, "beacons.yaml"));
const messages = (text: string) => compile(text).errors.map((e) => e.message);

void describe("compileBeacons", () => {
  void it("merges Salt's list-of-maps form and applies defaults", () => {
    const { beacons, errors } = compile(`beacons:
  diskusage:
    - '/': 90%
    - interval: 120
`);
    assert.deepEqual(errors, []);
    assert.equal(beacons.length, 1);
    const b = beacons[0]!;
    assert.equal(b.name, "diskusage");
    assert.equal(b.type, "diskusage");
    assert.equal(b.intervalMs, 120_000);
    assert.equal(b.enabled, true);
    assert.equal(b.runOnce, false);
    assert.deepEqual(b.config, { thresholds: [{ mount: "/", percent: 90 }] });
    assert.deepEqual(b.raw, { "/": "90%", interval: 120 });
    assert.ok(Object.isFrozen(b));
  });

  void it("accepts the dict form and beacon_module for several instances of one type", () => {
    const { beacons, errors } = compile(`beacons:
  root_disk:
    beacon_module: diskusage
    '/': 50%
  data_disk:
    beacon_module: diskusage
    '^/mnt/.*': 70%
    interval: 30
`);
    assert.deepEqual(errors, []);
    assert.deepEqual(beacons.map((b) => [b.name, b.type, b.intervalMs]), [["root_disk", "diskusage", 10_000], ["data_disk", "diskusage", 30_000]]);
  });

  void it("reports an invalid beacon with file, line and field path, and keeps the valid ones", () => {
    const result = compile(`beacons:
  memusage:
    - percent: 80%
  diskusage:
    - '/': lots
`);
    assert.deepEqual(result.beacons.map((b) => b.name), ["memusage"]);
    assert.equal(result.errors.length, 1);
    assert.ok(result.errors[0] instanceof ConfigError);
    assert.equal(result.errors[0]!.message, 'beacons.yaml:5: beacons.diskusage[0]./ must be a percentage like "90%"');
  });

  void it("rejects an interval below the floor of 1 second", () => {
    assert.deepEqual(messages(`beacons:
  load:
    - averages: { 1m: [0.0, 2.0] }
    - interval: 0.5
`), ["beacons.yaml:4: beacons.load[1].interval must be at least 1 second (got 0.5)"]);
  });

  void it("names an unknown type with a suggestion", () => {
    assert.deepEqual(messages(`beacons:
  diskusag:
    '/': 90%
`), ['beacons.yaml:2: beacons.diskusag names an unknown beacon type "diskusag", did you mean "diskusage"?']);
    assert.deepEqual(messages(`beacons:
  web:
    beacon_module: htp_status
`), ['beacons.yaml:3: beacons.web.beacon_module names an unknown beacon type "htp_status", did you mean "http_status"?']);
  });

  void it("rejects unknown options of a type and bad common options", () => {
    assert.deepEqual(messages(`beacons:
  service:
    - services:
        nginx:
          onchangeonly: true
          dealy: 5
    - enabled: yes please
`), ['beacons.yaml:7: beacons.service[1].enabled must be true or false']);
    assert.deepEqual(messages(`beacons:
  service:
    - services:
        nginx:
          dealy: 5
`), ['beacons.yaml:5: beacons.service[0].services.nginx.dealy is not an option here, did you mean "delay"?']);
  });

  void it("rejects a key given twice across the list and bad inotify masks", () => {
    assert.deepEqual(messages(`beacons:
  memusage:
    - percent: 50%
    - percent: 60%
`), ["beacons.yaml:4: beacons.memusage[1].percent is given twice (first in beacons.memusage[0].percent)"]);
    assert.deepEqual(messages(`beacons:
  inotify:
    - files:
        /etc/hosts:
          mask: [create, open]
`), ['beacons.yaml:5: beacons.inotify[0].files./etc/hosts.mask[1] "open" cannot be watched here (fs.watch sees create, delete, modify, attrib, move)']);
  });

  void it("reads Salt's global enabled switch and an empty file", () => {
    assert.equal(compile("beacons:\n  enabled: false\n").enabled, false);
    assert.deepEqual(compile(""), { beacons: [], errors: [], enabled: true });
  });

  void it("compiles every built-in type from Salt-style examples", () => {
    const { beacons, errors } = compile(`beacons:
  service: [ { services: { nginx: { onchangeonly: true, delay: 5 } } } ]
  inotify: [ { files: { /tmp: { mask: [create, move], recurse: true, exclude: [ /tmp/x, { '.*\\.swp$': { regex: true } } ] } } } ]
  load: [ { averages: { 1m: [0.0, 2.0], 15m: [0.1, 1.0] } }, { onchangeonly: true } ]
  memusage: [ { percent: 63% } ]
  swapusage: [ { percent: 13% } ]
  ps: [ { processes: { nginx: running, mysqld: stopped } } ]
  status: [ { loadavg: [all] } ]
  log: [ { file: /var/log/auth.log }, { tags: { sshd: { regex: '.*sshd.*' } } } ]
  network_info: [ { interfaces: { eth0: { type: greater, bytes_sent: 1000 } } } ]
  http_status: [ { sites: { api: { url: "http://127.0.0.1/health", status: [200, 204] } } } ]
  journald: [ { services: { sshd: { SYSLOG_IDENTIFIER: sshd } } } ]
`);
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(beacons.length, 11);
  });
});
