/**
 * Differential tests of rendering against Salt's real pipeline (test/oracle/salt_render.py: Jinja2
 * then PyYAML with Salt's loader changes), over a generated corpus of templates and values and a
 * hand-written corpus of real reactor idioms.
 *
 * For every case: where Salt's value is decided by the template and the data (the oracle's `salt`
 * and `safe` agree), our render must equal Salt's. Where they differ, Salt read data text as YAML
 * (a comment, a mapping, a re-read quote) or failed on it: there we differ on purpose and must give
 * the documented safe value (`safe`), never Salt's structure.
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import * as fc from "fast-check";
import { compileSls } from "../../src/config/index.js";
import { asOracleJson, SaltOracle, type OracleAnswer, type OracleResult } from "../helpers/salt-oracle.js";

let oracle: SaltOracle;
before(() => {
  oracle = new SaltOracle();
});
after(async () => {
  await oracle.stop();
});

function ours(template: string, data: unknown, tag: string): OracleResult {
  try {
    return { ok: true, value: asOracleJson(compileSls(template, "d.sls").render({ tag, data })) };
  } catch (err) {
    return { ok: false, error: String(err) };
  }
}

type Verdict = "same as Salt" | "Salt failed on data" | "Salt read data as YAML" | "both fail";

/** Checks one case; returns how it was judged. */
async function check(template: string, data: unknown, tag = "test/tag"): Promise<{ verdict: Verdict; answer: OracleAnswer }> {
  const answer = await oracle.render(template, data, tag);
  const got = ours(template, data, tag);
  const { salt, safe } = answer;
  const why = (): string => `template:\n${template}\ndata: ${JSON.stringify(data)}\nSalt's text:\n${answer.text}\nSalt: ${JSON.stringify(salt)}\nsafe: ${JSON.stringify(safe)}\nours: ${JSON.stringify(got)}`;
  if (!safe.ok) {
    assert.equal(got.ok, false, `the rule fails here, so must we\n${why()}`);
    return { verdict: salt.ok ? "Salt read data as YAML" : "both fail", answer };
  }
  assert.ok(got.ok, `we failed\n${why()}`);
  if (salt.ok) {
    try {
      assert.deepStrictEqual(safe.value, salt.value);
      assert.deepStrictEqual(got.value, salt.value, `differs from Salt\n${why()}`);
      return { verdict: "same as Salt", answer };
    } catch (err) {
      if (err instanceof assert.AssertionError && err.message.startsWith("differs from Salt")) throw err;
    }
  }
  assert.deepStrictEqual(got.value, safe.value, `differs from the safe rule\n${why()}`);
  return { verdict: salt.ok ? "Salt read data as YAML" : "Salt failed on data", answer };
}

// ---- the generated corpus ----

/** Strings that YAML 1.1 reads as something else, and strings that are YAML syntax. */
const TRICKY = [
  ...["yes", "no", "on", "off", "Yes", "OFF", "y", "n", "True", "true", "FALSE", "None", "null", "Null", "~", ""],
  ...["0644", "0", "00", "-0644", "+0644", "0x1F", "0b101", "1e3", "1.0e+3", "1.0e3", "1.5", "-2", "1:30", "190:20:30", "1_000"],
  ...[".inf", "-.inf", ".nan", "NaN", "09", "1.", "2024-01-01", "2024-01-01 10:00:00", "=", "<<", " x ", "\tx"],
  ...["a: b", "a #b", "a#b", "- x", "-x", "[1, 2]", "{a: 1}", "'q'", '"q"', "x,y", "x:", "?x", "? x", ":x", "@x", "%x", "*x", "&x", "!x", "|x", ">x", "#x"],
  ...["it's", 'say "hi"', "a\\b", "multi\nline", "web1.example.com", "C:\\temp", "é", "a{b}c", "a]"],
];
const CHARS = [..."abcXYZ019 :#-'\"\\{}[],._~!&*|>%@`?\t\né"];
const str = fc.oneof(fc.constantFrom(...TRICKY), fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((a) => a.join("")));
/** Numbers JSON carries without loss between JS and Python (not integers beyond 2^53 below 1e21). */
const num = fc.oneof(
  fc.integer({ min: -100000, max: 100000 }),
  fc.constantFrom(0.5, 1.5, -2.25, 0.1, 1e-7, 123.456, 1e21, 1.5e300, 0.0001, 1e-5),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x) || Number.isSafeInteger(x) || Math.abs(x) >= 1e21),
);
const scalar = fc.oneof(str, str, num, fc.boolean(), fc.constant(null));
/** Dict keys that JS keeps in insertion order (integer-like keys it would move first). */
const key = fc.oneof(fc.constantFrom("a", "k", "yes", "null", "a: b", "it's"), str.map((s) => `k${s}`));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, scalar, scalar, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(key, tie("v"), { maxKeys: 3 })),
})).v;

const V = (i: number): string => `data.v${i}`;
const idx = fc.integer({ min: 0, max: 3 });
/** Literal scalars of the template itself, read by Salt's YAML 1.1 loader. */
const LITERALS = ["0644", "yes", "on", "Off", "y", "1e3", "1.0e+3", "~", "NULL", "2024-01-01", "2024-01-01 10:00:00", "1:30", "0x1F", "0b11", ".inf", "-0644", "+12", "1_000", "09", "1.", "True", "None", "null"]; // not `=` or `<<`: Salt cannot construct them as values (we keep the text)

/** A value in block position (`key: <slot>`). */
const blockSlot = fc.oneof(
  idx.map((i) => `{{ ${V(i)} }}`),
  idx.map((i) => `{{ ${V(i)} }}`),
  idx.map((i) => `{{ ${V(i)} | json }}`),
  fc.tuple(idx, fc.constantFrom("pre-", "80", "0", "x ", "web_")).map(([i, p]) => `${p}{{ ${V(i)} }}`),
  fc.tuple(idx, fc.constantFrom("-post", " y", ".example.com", "0")).map(([i, p]) => `{{ ${V(i)} }}${p}`),
  fc.tuple(idx, idx, fc.constantFrom("", " ", "-", ":")).map(([i, j, s]) => `{{ ${V(i)} }}${s}{{ ${V(j)} }}`),
  idx.map((i) => `'{{ ${V(i)} }}'`),
  idx.map((i) => `"{{ ${V(i)} }}"`),
  idx.map((i) => `{{ ${V(i)} | string }}`),
  idx.map((i) => `{{ 'x' ~ ${V(i)} }}`),
  idx.map((i) => `{{ ${V(i)} | default('d') }}`),
  idx.map((i) => `{% if ${V(i)} %}yes{% else %}no{% endif %}`),
  idx.map((i) => `{{ ${V(i)} is string }}`),
  fc.constantFrom(...LITERALS),
  fc.tuple(idx, idx).map(([i, j]) => `[{{ ${V(i)} }}, {{ ${V(j)} }}]`),
  fc.tuple(idx, fc.constantFrom("1", "yes", "x")).map(([i, l]) => `[${l}, {{ ${V(i)} }}]`),
  idx.map((i) => `{a: {{ ${V(i)} }}, b: 1}`),
  idx.map((i) => `\n  - {{ ${V(i)} }}\n  - 0644`),
  idx.map((i) => `|\n  line {{ ${V(i)} }}`),
);
const template = fc.array(blockSlot, { minLength: 1, maxLength: 5 }).map((slots) => slots.map((s, n) => `k${n}: ${s}`).join("\n") + "\n");
const data = fc.tuple(value, value, value, value).map(([v0, v1, v2, v3]) => JSON.parse(JSON.stringify({ v0, v1, v2, v3 })) as Record<string, unknown>);

void describe("rendering agrees with Salt's Jinja2 and PyYAML (differential)", () => {
  void it("a generated corpus of templates and values (1,500 cases)", async () => {
    const verdicts = new Map<Verdict, number>();
    await fc.assert(
      fc.asyncProperty(template, data, async (t, d) => {
        const { verdict } = await check(t, d).catch((err: unknown) => {
          throw new Error(String(err instanceof Error ? err.message : err));
        });
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      }),
      { numRuns: Number(process.env["ORACLE_RUNS"] ?? 1500), seed: Number(process.env["ORACLE_SEED"] ?? 14), includeErrorInReport: true },
    );
    const same = verdicts.get("same as Salt") ?? 0;
    console.log(`# generated corpus: ${JSON.stringify(Object.fromEntries(verdicts))}`);
    // not vacuous: most cases agree with Salt exactly, and the deliberate differences are exercised
    assert.ok(same > 700, `only ${same} cases agreed with Salt`);
    assert.ok((verdicts.get("Salt read data as YAML") ?? 0) > 50);
    assert.ok((verdicts.get("Salt failed on data") ?? 0) > 50);
  });
});

// ---- the hand-written corpus: reactor idioms from Salt's documentation and public deployments ----

const IDS = ["web1", "web-01.example.com", "0644", "yes", "123", "null", "a: b", "web1\nevil:\n  local.cmd.run:\n    - tgt: '*'", "", "it's"];

const IDIOMS: readonly { name: string; sls: string; data: (id: string) => unknown; tag?: string }[] = [
  {
    name: "auto-accept keys (salt docs)",
    sls: "{% if 'act' in data and data['act'] == 'pend' and data['id'].startswith('web') %}\nminion_add:\n  wheel.key.accept:\n    - args:\n      - match: {{ data['id'] }}\n{% endif %}\n",
    data: (id) => ({ act: "pend", id: `web${id}`, result: true }),
    tag: "salt/auth",
  },
  {
    name: "highstate on start",
    sls: "run_highstate:\n  local.state.apply:\n    - tgt: {{ data['id'] }}\n",
    data: (id) => ({ id, data: `Minion ${id} started` }),
  },
  {
    name: "restart a stopped service (service beacon)",
    sls: "{% if data[data['service_name']]['running'] == false %}\nrestart_{{ data['service_name'] }}:\n  local.service.restart:\n    - tgt: {{ data['id'] }}\n    - arg:\n      - {{ data['service_name'] }}\n{% endif %}\n",
    data: (id) => ({ id, service_name: "nginx", nginx: { running: false } }),
  },
  {
    name: "orchestrate with event data as pillar (json)",
    sls: "orchestrate_deploy:\n  runner.state.orchestrate:\n    - args:\n      - mods: orch.deploy\n      - pillar:\n          event_tag: {{ tag }}\n          event_data: {{ data | json }}\n",
    data: (id) => ({ id, data: { version: "1.2.0", dry: null, hosts: [id] } }),
    tag: "deploy/web",
  },
  {
    name: "event data as pillar without json (repr read back)",
    sls: "deploy:\n  runner.state.orchestrate:\n    - mods: orch.deploy\n    - pillar: {{ data['data'] }}\n",
    data: (id) => ({ id, data: { target: id, user: null, force: true, retries: 3 } }),
  },
  {
    name: "file.managed with mode 0644 and yes/True flags",
    sls: "motd:\n  local.state.single:\n    - tgt: {{ data['id'] }}\n    - arg:\n      - file.managed\n    - kwarg:\n        name: /etc/motd\n        mode: 0644\n        replace: yes\n        makedirs: True\n        user: {{ data.get('user') }}\n",
    data: (id) => ({ id }),
  },
  {
    name: "a loop over services",
    sls: "{% for svc in data.get('services', []) %}\nrestart_{{ svc }}:\n  local.service.restart:\n    - tgt: {{ data['id'] }}\n    - arg:\n      - {{ svc }}\n{% endfor %}\n",
    data: (id) => ({ id, services: ["nginx", "php-fpm", id] }),
  },
  {
    name: "inotify beacon: path in a command",
    sls: "{% if data['change'] == 'IN_MODIFY' %}\nreload:\n  local.cmd.run:\n    - tgt: {{ data['id'] }}\n    - arg:\n      - 'nginx -t -c {{ data['path'] }}'\n      - {{ data['path'] }}\n{% endif %}\n",
    data: (id) => ({ id: "web1", change: "IN_MODIFY", path: `/etc/nginx/${id}.conf` }),
  },
  {
    name: "webhook payload with defaults and a timeout",
    sls: "{% set payload = data.get('post', {}) %}\ndeploy:\n  local.state.apply:\n    - tgt: {{ payload.get('host', 'web*') }}\n    - arg:\n      - \"{{ payload.get('ref', 'master') }}\"\n    - timeout: {{ payload.get('timeout', 30) }}\n    - kwarg:\n        test: {{ payload.get('dry_run', False) }}\n",
    data: (id) => ({ post: { host: id, ref: id, timeout: 120, dry_run: "yes" } }),
  },
  {
    name: "disk usage beacon in a message",
    sls: "alert:\n  runner.event.send:\n    - tag: ops/disk\n    - data:\n        text: Disk {{ data['mount'] }} on {{ data['id'] }} at {{ data['diskusage'] }}%\n        raw: {{ data }}\n",
    data: (id) => ({ id, mount: "/", diskusage: 91.5 }),
  },
];

void describe("real reactor idioms agree with Salt", () => {
  const tally = new Map<Verdict, number>();
  after(() => console.log(`# idioms corpus: ${JSON.stringify(Object.fromEntries(tally))}`));
  for (const idiom of IDIOMS) {
    void it(idiom.name, async () => {
      const verdicts: string[] = [];
      for (const id of IDS) {
        const { verdict } = await check(idiom.sls, idiom.data(id), idiom.tag);
        tally.set(verdict, (tally.get(verdict) ?? 0) + 1);
        verdicts.push(`${JSON.stringify(id)}: ${verdict}`);
      }
      // the idiom with an ordinary id renders exactly as in Salt
      assert.match(verdicts[0]!, /same as Salt/, verdicts.join("\n"));
    });
  }
});
