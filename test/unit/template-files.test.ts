/**
 * Macros, call blocks, import / from-import / include, set blocks, with, do, loop controls and
 * Salt's import_yaml / load_yaml, differentially against the real Jinja2 (test/oracle/jinja_files.py,
 * Debian's python3-jinja2) over a hand-written corpus of formula idioms and a generated one.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileTemplate, type TemplateOptions } from "../../src/core/template/index.js";
import { loadSaltYaml, textOutput } from "../../src/config/index.js";
import { repoRoot } from "../helpers/paths.js";

type Files = Record<string, string>;

class Oracle {
  private readonly child = spawn("python3", [join(repoRoot(), "test", "oracle", "jinja_files.py")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  private readonly waiting = new Map<number, (v: { ok: boolean; text?: string; error?: string }) => void>();
  private next = 0;
  constructor() {
    createInterface({ input: this.child.stdout }).on("line", (l) => {
      const a = JSON.parse(l) as { id: number; ok: boolean; text?: string; error?: string };
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }
  render(
    files: Files,
    main: string,
    context: Record<string, unknown>,
  ): Promise<{ ok: boolean; text?: string; error?: string }> {
    const id = this.next++;
    return new Promise((r) => {
      this.waiting.set(id, r);
      this.child.stdin.write(`${JSON.stringify({ id, files, main, context })}\n`);
    });
  }
  close(): void {
    this.child.stdin.end();
  }
}

function ours(
  files: Files,
  main: string,
  context: Record<string, unknown>,
): { ok: boolean; text?: string; error?: string } {
  const opts: TemplateOptions = {
    loader: (name) => (files[name] === undefined ? undefined : { source: files[name]!, file: name }),
    parseYaml: (text, file) => loadSaltYaml(text, file),
  };
  try {
    return { ok: true, text: compileTemplate(files[main]!, main, opts).render(context, textOutput) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

const CORPUS: { name: string; files: Files; context?: Record<string, unknown> }[] = [
  {
    name: "map.jinja with filter_by-like merge, imported with context",
    files: {
      "map.jinja":
        "{% set defaults = {'pkg': 'nginx', 'port': 80} %}\n{% set os_map = {'Debian': {'pkg': 'nginx-full'}} %}\n{% set nginx = defaults %}\n{% do nginx.update(os_map.get(grains.os_family, {})) %}\n",
      "main.sls":
        "{% from 'map.jinja' import nginx with context %}\n{{ nginx.pkg }}:\n  pkg.installed: []\nport: {{ nginx.port }}\n",
    },
    context: { grains: { os_family: "Debian" } },
  },
  {
    name: "macros with defaults, keyword arguments, varargs and caller",
    files: {
      "macros.jinja":
        "{% macro user(name, shell='/bin/bash') -%}\n{{ name }}:\n  user.present:\n    - shell: {{ shell }}\n{%- endmacro %}\n{% macro wrap(tag) -%}\n<{{ tag }}>{{ caller() }}</{{ tag }}>\n{%- endmacro %}\n{% macro many() %}{{ varargs | join(',') }}{% endmacro %}",
      "main.sls":
        "{% import 'macros.jinja' as m %}\n{{ m.user('alice') }}\n{{ m.user('bob', shell='/bin/sh') }}\n{% call m.wrap('b') %}bold {{ 1 + 1 }}{% endcall %}\n{{ m.many(1, 2, 3) }}\n",
    },
  },
  {
    name: "call blocks with arguments, nested loops with loop.* and loop controls",
    files: {
      "main.sls":
        "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}\n{% call(x, n) each(['a', 'b', 'c']) %}[{{ n }}:{{ x }}]{% endcall %}\n{% for i in range(10) %}{% if i is even %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{{ loop.cycle('-', '+') }}{% endfor %}\n{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ ',' if not loop.last }}{% endfor %};{% endfor %}\n",
    },
  },
  {
    name: "include with and without context, a list of names, ignore missing",
    files: {
      "part.jinja": "part sees {{ who }} and {{ local | default('nothing') }}\n",
      "main.sls":
        "{% set local = 'mine' %}\n{% include 'part.jinja' %}\n{% include 'part.jinja' without context %}\n{% include ['nope.jinja', 'part.jinja'] %}\n{% include 'gone.jinja' ignore missing %}end\n",
    },
    context: { who: "global" },
  },
  {
    name: "set blocks, with blocks, whitespace control, raw",
    files: {
      "main.sls":
        "{% set body %}\nline {{ n }}\n{%- endset %}\n[{{ body }}]\n{% with a = 1, b = n %}{{ a + b }}{% endwith %}\n{%- raw %}{{ not rendered }}{% endraw %}\n  {{- ' tight ' -}}  \nx\n",
    },
    context: { n: 41 },
  },
  {
    name: "import without context sees the globals (Salt puts the context there)",
    files: {
      "lib.jinja": "{% macro greet() %}hi {{ grains.id }}{% endmacro %}",
      "main.sls":
        "{% from 'lib.jinja' import greet %}{{ greet() }}\n{% import 'lib.jinja' as lib %}{{ lib.greet() }}\n",
    },
    context: { grains: { id: "web1" } },
  },
  {
    name: "relative-free nested imports: a macro file importing another",
    files: {
      "a.jinja": "{% from 'b.jinja' import twice %}{% macro four(x) %}{{ twice(twice(x)) }}{% endmacro %}",
      "b.jinja": "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}",
      "main.sls": "{% from 'a.jinja' import four %}{{ four('ab') }}\n",
    },
  },
  {
    name: "Jinja2 builtin filters formulas use",
    files: {
      "main.sls": "{% for k, v in {'b': 1, 'a': 2} | dictsort %}{{ k }}={{ v }};{% endfor %}\n{{ 'line1\\nline2' | indent(2) }}\n{{ 'hello world' | title }}|{{ 'ab' | center(6) }}|\n{{ '%s-%s' | format('a', 3) }}\n{{ [1,2,3,4,5] | batch(2, 0) | list }}\n{{ 'a b c d e f' | truncate(9, True, '..', 0) }}\n{{ 'one two three' | wordcount }} {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }}\n{{ 'a b/c' | urlencode }}\n",
    },
  },
];

/** A seeded generator of small templates over macros, loops, sets and includes. */
function generated(count: number): { name: string; files: Files; context: Record<string, unknown> }[] {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const exprs = [
    "x",
    "x ~ '!'",
    "n * 2",
    "items | length",
    "items | join('-')",
    "'%s/%s' % (x, n)",
    "x | upper",
    "n is even",
    "items[0]",
    "(n + 1) // 2",
  ];
  const out: { name: string; files: Files; context: Record<string, unknown> }[] = [];
  for (let i = 0; i < count; i++) {
    const e = () => exprs[rnd(exprs.length)]!;
    const parts: string[] = [];
    const pieces = 3 + rnd(4);
    for (let j = 0; j < pieces; j++) {
      switch (rnd(6)) {
        case 0:
          parts.push(`{{ ${e()} }}`);
          break;
        case 1:
          parts.push(`{% for i in items %}{{ loop.index }}{{ i }}{% if loop.last %}.{% endif %}{% endfor %}`);
          break;
        case 2:
          parts.push(`{% set x = ${e()} %}`);
          break;
        case 3:
          parts.push(`{% from 'lib.jinja' import m %}{{ m(${e()}) }}`);
          break;
        case 4:
          parts.push(`{% include 'inc.jinja' %}`);
          break;
        default:
          parts.push(`{% if ${e()} %}yes{% else %}no{% endif %}`);
      }
      parts.push(rnd(2) ? "\n" : " ");
    }
    out.push({
      name: `generated ${i}`,
      files: {
        "lib.jinja": "{% macro m(v, sep=':') %}<{{ v }}{{ sep }}{{ n }}>{% endmacro %}",
        "inc.jinja": "inc {{ x }} {{ n }}\n",
        "main.sls": parts.join(""),
      },
      context: { x: `v${rnd(100)}`, n: rnd(20), items: ["a", "b", "c"].slice(0, 1 + rnd(3)) },
    });
  }
  return out;
}

void describe("templates that load templates, against Jinja2", () => {
  let oracle: Oracle;
  before(() => (oracle = new Oracle()));
  after(() => oracle.close());

  for (const c of CORPUS) {
    it(c.name, async () => {
      const want = await oracle.render(c.files, "main.sls", c.context ?? {});
      assert.equal(want.ok, true, want.error);
      assert.deepEqual(ours(c.files, "main.sls", c.context ?? {}), { ok: true, text: want.text });
    });
  }

  it("renders 300 generated templates as Jinja2 does, byte for byte", async () => {
    let compared = 0;
    for (const c of generated(300)) {
      const want = await oracle.render(c.files, "main.sls", c.context);
      if (!want.ok) continue;
      assert.deepEqual(
        ours(c.files, "main.sls", c.context),
        { ok: true, text: want.text },
        `${c.name}:\n${c.files["main.sls"]}`,
      );
      compared++;
    }
    assert.ok(compared > 250, `only ${compared} generated templates rendered in Jinja2`);
  });

  it("imports data with Salt's import_yaml / load_yaml / import_json", () => {
    const files = {
      "defaults.yaml": "port: {{ 8000 + 80 }}\nnames: [a, b]\n",
      "d.json": '{"k": [1, 2]}',
      "main.sls":
        "{% import_yaml 'defaults.yaml' as d %}{% import_json 'd.json' as j %}{% load_yaml as inline %}\nx: {{ d.port }}\n{% endload %}{{ d.port }} {{ d.names | join(',') }} {{ j.k }} {{ inline.x }}",
    };
    assert.deepEqual(ours(files, "main.sls", {}), { ok: true, text: "8080 a,b [1, 2] 8080" });
  });

  it("has Salt's filters: yaml_encode, yaml_dquote, sequence, to_num, set operations, hashes", () => {
    const src = "{{ 'plain' | yaml_encode }} {{ 'a: b' | yaml_encode }} {{ 'yes' | yaml_encode }} {{ {'k': [1, 'x y']} | yaml_encode }} {{ 'q\"' | yaml_dquote }} {{ 'it' | yaml_squote }}\n{{ 'a' | sequence }} {{ '42' | to_num + 1 }} {{ [1, 2] | union([2, 3]) }} {{ [1, 2] | intersect([2, 3]) }} {{ [1, 2] | difference([2]) }} {{ [[1, [2]], 3] | flatten }} {{ 'abc' | md5 }} {{ 'abc' | base64_encode }}";
    assert.deepEqual(ours({ "main.sls": src }, "main.sls", {}), {
      ok: true,
      text: "plain 'a: b' 'yes' {k: [1, x y]} \"q\\\"\" 'it'\n['a'] 43 [1, 2, 3] [2] [1] [1, 2, 3] 900150983cd24fb0d6963f7d28e17f72 YWJj",
    });
  });

  it("names a missing template, and a name an import does not export", () => {
    assert.deepEqual(ours({ "main.sls": "\n{% import 'nope.jinja' as x %}" }, "main.sls", {}), {
      ok: false,
      error: "main.sls:2: template not found: nope.jinja",
    });
    assert.deepEqual(ours({ "l.jinja": "", "main.sls": "{% from 'l.jinja' import m %}" }, "main.sls", {}), {
      ok: false,
      error: "main.sls:1: the template does not export the requested name 'm'",
    });
  });
});
