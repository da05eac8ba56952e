/** The state compiler over real temp file roots: render (includes, extend, exclude), compile, top. */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  compileHigh,
  localFileClient,
  renderSls,
  topMatches,
  type CompilerEnv,
  type ExecCaller,
} from "../../src/state/index.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "state-compile-"));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function env(root: string, over: Partial<CompilerEnv> = {}): CompilerEnv {
  const exec: ExecCaller = (fun) => Promise.reject(new Error(`'${fun}' is not available.`));
  return {
    files: localFileClient({ base: [root] }),
    saltenv: "base",
    id: "web1",
    grains: { id: "web1", os_family: "Debian", roles: ["web"] },
    pillar: {},
    opts: {},
    exec,
    ...over,
  };
}

async function low(root: string, mods: string[], over: Partial<CompilerEnv> = {}) {
  const r = await renderSls(mods, env(root, over));
  assert.deepEqual(r.errors, []);
  const c = compileHigh(r.high);
  assert.deepEqual(c.errors, []);
  return c.chunks;
}

void describe("renderSls + compileHigh", () => {
  it("expands short forms, names and multiple states per ID, in file order with Salt's auto order", async () => {
    const root = tree({
      "web/init.sls":
        "include:\n  - .common\nnginx:\n  pkg.installed: []\n  service.running:\n    - enable: True\nmotd: file.managed\ntools:\n  pkg:\n    - installed\n    - names:\n      - git\n      - curl\n",
      "web/common.sls": "base-dir:\n  file.directory:\n    - name: /srv/app\n",
    });
    const chunks = await low(root, ["web"]);
    assert.deepEqual(
      chunks.map((c) => `${c.state}.${c.fun}:${c.__id__}:${c.name}:${c.__sls__}`),
      [
        "file.directory:base-dir:/srv/app:web.common",
        "pkg.installed:nginx:nginx:web",
        "service.running:nginx:nginx:web",
        "file.managed:motd:motd:web",
        "pkg.installed:tools:git:web",
        "pkg.installed:tools:curl:web",
      ],
    );
    assert.equal(chunks.find((c) => c.state === "service")?.enable, true);
  });

  it("orders first and last, and numbers before the auto order", async () => {
    const root = tree({
      "o.sls":
        "a:\n  test.nop: []\nb:\n  test.nop:\n    - order: last\nc:\n  test.nop:\n    - order: first\nd:\n  test.nop:\n    - order: 1\n",
    });
    assert.deepEqual(
      (await low(root, ["o"])).map((c) => c.__id__),
      ["c", "d", "a", "b"],
    );
  });

  it("applies extend (requisites appended, arguments replaced) and exclude by id and sls", async () => {
    const root = tree({
      "base.sls":
        "conf:\n  file.managed:\n    - name: /etc/x\n    - mode: '0644'\n    - require:\n      - pkg: x\ngone:\n  test.nop: []\n",
      "extra.sls": "other:\n  test.nop: []\n",
      "top2.sls":
        "include:\n  - base\n  - extra\nexclude:\n  - id: gone\n  - sls: extra\nextend:\n  conf:\n    file:\n      - mode: '0600'\n      - require:\n        - file: y\n",
    });
    const chunks = await low(root, ["top2"]);
    assert.deepEqual(
      chunks.map((c) => c.__id__),
      ["conf"],
    );
    assert.equal(chunks[0]!.mode, "0600");
    assert.deepEqual(chunks[0]!.require, [{ pkg: "x" }, { file: "y" }]);
  });

  it("reports conflicting IDs naming both SLS, a missing include and a missing SLS as Salt does", async () => {
    const root = tree({
      "a.sls": "same:\n  test.nop: []\n",
      "b.sls": "same:\n  test.succeed_with_changes: []\n",
      "c.sls": "include:\n  - nothere\n",
    });
    const dup = await renderSls(["a", "b"], env(root));
    assert.deepEqual(dup.errors, [
      "Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is 'same' and is found in SLS 'base:a' and SLS 'base:b'",
    ]);
    const inc = await renderSls(["c"], env(root));
    assert.deepEqual(inc.errors, [
      "Unknown include: Specified SLS base: nothere is not available on the salt master in saltenv(s): base ",
    ]);
    const missing = await renderSls(["zzz"], env(root));
    assert.deepEqual(missing.errors, ["No matching sls found for 'zzz' in env 'base'"]);
  });

  it("names the file and line of a YAML error, and of a template error", async () => {
    const root = tree({
      "bad.sls": "a:\n  test.nop: []\n b: [\n",
      "tpl.sls": "a:\n  test.nop:\n    - name: {{ nope }}\n",
    });
    const y = await renderSls(["bad"], env(root));
    assert.match(y.errors[0] ?? "", /^Rendering SLS 'base:bad' failed: bad\.sls:\d+: YAML syntax error/);
    const t = await renderSls(["tpl"], env(root));
    assert.match(t.errors[0] ?? "", /^Rendering SLS 'base:tpl' failed: tpl\.sls:3: .*nope/);
  });

  it("gives templates grains, filter_by, tpldir/slspath, and runs each salt[] call once per render", async () => {
    const root = tree({
      "app/web.sls": [
        "{% set os = salt['grains.filter_by']({'Debian': {'pkg': 'apache2'}, 'RedHat': {'pkg': 'httpd'}}) %}",
        "{% set who = salt['cmd.run']('whoami') %}{% set again = salt['cmd.run']('whoami') %}",
        "{{ os.pkg }}:",
        "  test.nop:",
        "    - who: {{ who }}",
        "    - again: {{ again }}",
        "    - dir: {{ tpldir }}",
        "    - slspath: {{ slspath }}",
        "    - slsdot: {{ slsdotpath }}",
        "    - sls: {{ sls }}",
      ].join("\n"),
    });
    const calls: string[] = [];
    const exec: ExecCaller = (fun, args = []) => {
      calls.push(`${fun}(${JSON.stringify(args)})`);
      return Promise.resolve("root");
    };
    const [c] = await low(root, ["app.web"], { exec });
    assert.equal(c!.name, "apache2");
    assert.deepEqual(
      [c!.who, c!.again, c!.dir, c!.slspath, c!.slsdot, c!.sls],
      ["root", "root", "app", "app", "app", "app.web"],
    );
    assert.deepEqual(calls, ['cmd.run(["whoami"])']);
  });
});

void describe("state files that import templates", () => {
  it("imports map.jinja with context, a relative macro file, and import_yaml, through the file client", async () => {
    const root = tree({
      "map.jinja": "{% set global = salt['grains.filter_by']({'Debian': {'group': 'adm'}, 'RedHat': {'group': 'wheel'}}) %}\n",
      "proxy/macros.jinja": "{% macro conf(path) %}{{ path }}:\n  file.managed:\n    - group: {{ global.group }}{% endmacro %}",
      "proxy/defaults.yaml": "port: {{ 80 + 1 }}\n",
      "proxy/init.sls": "{% from \"map.jinja\" import global with context %}\n{% from './macros.jinja' import conf with context %}\n{% import_yaml 'proxy/defaults.yaml' as d %}\n{{ conf('/etc/haproxy/haproxy.cfg') }}\n    - port: {{ d.port }}\n",
    });
    const [c] = await low(root, ["proxy"]);
    assert.deepEqual([c!.name, c!.group, c!.port], ["/etc/haproxy/haproxy.cfg", "adm", 81]);
  });

  it("names a missing imported template with the file and line", async () => {
    const root = tree({ "x.sls": "a: b\n{% from 'nope.jinja' import y %}\n" });
    const r = await renderSls(["x"], env(root));
    assert.deepEqual(r.errors, ["Rendering SLS 'base:x' failed: x.sls:2: template not found: nope.jinja"]);
  });
});

void describe("topMatches", () => {
  it("matches glob, grain and compound targets of top.sls and merges environments", async () => {
    const root = tree({
      "top.sls":
        "base:\n  '*':\n    - common\n  'os_family:Debian':\n    - match: grain\n    - debian\n  'G@roles:web and web*':\n    - match: compound\n    - web\n  'db*':\n    - db\n",
    });
    const r = await topMatches(env(root));
    assert.deepEqual(r, { matches: { base: ["common", "debian", "web"] }, errors: [] });
  });
});
