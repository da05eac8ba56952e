import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { TemplateError } from "../../src/core/index.js";
import { compileSls, renderTemplateText } from "../../src/config/index.js";

const render = (src: string, ctx: Record<string, unknown>): unknown => compileSls(src, "reactors/r.sls").render(ctx);

function failsWith(src: string, ctx: Record<string, unknown>, message: string): void {
  assert.throws(
    () => render(src, ctx),
    (err: unknown) => {
      if (!(err instanceof TemplateError)) throw new assert.AssertionError({ message: `expected TemplateError, got ${String(err)}` });
      assert.equal(err.message, message);
      return true;
    },
  );
}

const KEY_ACCEPT = `{% if 'act' in data and data['act'] == 'pend' and data['id'].startswith('web') %}
minion_add:
  wheel.key.accept:
    - args:
      - match: {{ data['id'] }}
{% endif %}
`;

const RESTART = `{% if data[data['service_name']]['running'] == false %}
restart_{{ data['service_name'] }}:
  local.service.restart:
    - tgt: {{ data['id'] }}
    - args:
      - name: {{ data['service_name'] }}
{% endif %}
`;

const INJECTIONS = [
  "x\nevil:\n  local.cmd.run:\n    - tgt: '*'",
  "a: b",
  "- item",
  "{{ 7*7 }}",
  "{% for %}",
  "# c",
  "'\"",
  "@@rx7f3a_12@@",
  "RXN0123456789abcdefI0E",
  "*anchor",
  "&a [1, 2]",
  "!!python/object:os.system",
  "| block\n  text",
  "",
  " spaced ",
  "123",
  "true",
  "null",
  "~",
  "}}{{",
];

void describe("Salt's reactor examples", () => {
  void it("auto-accepts a pending web key, and renders nothing for other events", () => {
    const sls = compileSls(KEY_ACCEPT, "reactors/auth.sls");
    assert.deepEqual(sls.render({ tag: "salt/auth", data: { act: "pend", id: "web1" } }), {
      minion_add: { "wheel.key.accept": [{ args: [{ match: "web1" }] }] },
    });
    assert.equal(sls.render({ tag: "salt/auth", data: { act: "accept", id: "web1" } }), null);
    assert.equal(sls.render({ tag: "salt/auth", data: { act: "pend", id: "db1" } }), null);
    assert.equal(sls.render({ tag: "salt/auth", data: { id: "web1" } }), null);
  });

  void it("restarts a stopped service from the service beacon's data ('false' and 'False' both work)", () => {
    const data = { id: "web1", service_name: "nginx", nginx: { running: false } };
    const want = { restart_nginx: { "local.service.restart": [{ tgt: "web1" }, { args: [{ name: "nginx" }] }] } };
    assert.deepEqual(render(RESTART, { data }), want);
    assert.deepEqual(render(RESTART.replace("== false", "== False"), { data }), want);
    assert.equal(render(RESTART, { data: { ...data, nginx: { running: true } } }), null);
  });

  void it("passes structured pillar data through the json filter", () => {
    const src = `deploy:
  runner.state.orchestrate:
    - args:
      - mods: orch/deploy.sls
      - pillar: { target: {{ data['id'] | json }}, ids: {{ data['ids'] | json }}, all: {{ data | tojson }} }
`;
    const data = { id: "web1: x", ids: ["a", "b\nc"] };
    assert.deepEqual(render(src, { data }), {
      deploy: { "runner.state.orchestrate": [{ args: [{ mods: "orch/deploy.sls" }, { pillar: { target: "web1: x", ids: ["a", "b\nc"], all: data } }] }] },
    });
  });

  void it("renderTemplateText gives the plain text, as Salt renders it", () => {
    const sls = compileSls("a: {{ data.id }}\nb: {{ data.l | json }}\nc: {{ data.l | yaml }}\n", "r.sls");
    assert.equal(renderTemplateText(sls, { data: { id: "x: y", l: [1, "a"] } }), 'a: x: y\nb: [1,"a"]\nc: [ 1, a ]\n');
  });
});

void describe("values keep their type", () => {
  const data = { s: "web1", n: 5, f: 1.5, t: true, z: null, num: "123", bool: "true", l: [1, { a: 2 }], d: { k: "v" } };
  void it("a plain scalar that is one output has the value Salt ends with (None is the string 'None', '123' is 123)", () => {
    assert.deepEqual(
      render("s: {{ data.s }}\nn: {{ data.n }}\nf: {{ data.f }}\nt: {{ data.t }}\nz: {{ data.z }}\nnum: {{ data.num }}\nbool: {{ data.bool }}\nl: {{ data.l }}\nd: {{ data.d }}", { data }),
      { s: "web1", n: 5, f: 1.5, t: true, z: "None", num: 123, bool: true, l: [1, { a: 2 }], d: { k: "v" } },
    );
  });

  void it("quoted scalars and longer strings get the text", () => {
    assert.deepEqual(render(`a: "{{ data.n }}"\nb: '{{ data.t }}'\nc: id-{{ data.s }}-{{ data.n }}\nd: "{{ data.l }}"\ne: x {{ data.z }}`, { data }), {
      a: "5",
      b: "True",
      c: "id-web1-5",
      d: "[1, {'a': 2}]",
      e: "x None",
    });
  });

  void it("outputs in keys are text; outputs in comments vanish", () => {
    assert.deepEqual(render("{{ data.n }}: a\nk_{{ data.s }}: b # {{ data.s }}\n# {{ data.l }}\n", { data }), { "5": "a", k_web1: "b" });
  });

  void it("block scalars take the text", () => {
    assert.deepEqual(render("cmd: |\n  echo {{ data.s }}\n  {{ data.l | json }}\n", { data }), { cmd: 'echo web1\n[1,{"a":2}]\n' });
  });

  void it("the result shares nothing with the event data", () => {
    const d = { l: [1, 2] };
    const out = render("x: {{ data.l }}", { data: d }) as { x: number[] };
    out.x.push(3);
    assert.deepEqual(d.l, [1, 2]);
  });

  void it("an empty render is null", () => {
    assert.equal(render("{# nothing #}\n  \n# comment {{ data.s }}\n", { data }), null);
    assert.equal(render("", {}), null);
  });
});

/** What Salt's YAML reads from the injection strings that are plain scalars; the rest stay strings. */
const SCALAR_LIKE = new Map<string, unknown>([["", null], [" spaced ", "spaced"], ["123", 123], ["true", true], ["null", null], ["~", null]]);

void describe("event data never becomes template source or YAML structure", () => {
  const SRC = "react:\n  local.cmd.run:\n    - tgt: {{ data.id }}\n    - arg:\n      - {{ data.cmd }}\n      - 'q {{ data.cmd }}'\n      - \"{{ tag }}\"\n";
  for (const s of INJECTIONS) {
    void it(JSON.stringify(s), () => {
      const plain = SCALAR_LIKE.has(s) ? SCALAR_LIKE.get(s) : s;
      assert.deepEqual(render(SRC, { tag: s, data: { id: s, cmd: s } }), {
        react: { "local.cmd.run": [{ tgt: plain }, { arg: [plain, `q ${s}`, s] }] },
      });
    });
  }

  void it("property: k:\\n  - name: {{ data.s }} gives {k: [{name: v}]}, v the string or a scalar Salt reads from it", () => {
    const sls = compileSls("k:\n  - name: {{ data.s }}\n", "p.sls");
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom(...INJECTIONS)), (s) => {
        const out = sls.render({ data: { s } }) as { k: [{ name: unknown }] };
        assert.deepEqual(Object.keys(out), ["k"]);
        assert.equal(out.k.length, 1);
        assert.deepEqual(Object.keys(out.k[0]), ["name"]);
        const v = out.k[0].name;
        if (typeof v === "string") assert.ok(v === s || v === s.replace(/^ +| +$/g, ""), JSON.stringify(v));
        else assert.ok(v === null || typeof v === "number" || typeof v === "boolean", JSON.stringify(v));
      }),
      { numRuns: 500 },
    );
  });

  void it("a key made from data is an own key, even '__proto__'", () => {
    const out = render("{{ data.k }}: 1\n", { data: { k: "__proto__" } }) as Record<string, unknown>;
    assert.ok(Object.hasOwn(out, "__proto__"));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });

  void it("values computed with set and from context helpers are data too", () => {
    const mine = (tgt: unknown, fun: unknown): unknown => ({ [`${String(tgt)}`]: `${String(fun)}: [evil]` });
    const src = "{% set who = 'web1\\n- x' %}a: {{ who }}\nb: {{ mine('web1', 'f')['web1'] }}\n";
    assert.deepEqual(render(src, { mine }), { a: "web1\n- x", b: "f: [evil]" });
  });

  void it("keys built from data may not collide", () => {
    failsWith("{{ data.a }}: 1\n{{ data.b }}: 2\n", { data: { a: "k", b: "k" } }, 'reactors/r.sls: rendered output line 2: duplicate key "k" after inserting template values: "k: 2"');
  });
});

void describe("errors", () => {
  void it("template errors name the file and the template line", () => {
    failsWith("a: 1\nb: {{ data.ids }}\n", { data: {} }, "reactors/r.sls:2: 'data' has no attribute 'ids'");
    assert.throws(() => compileSls("{% if %}", "reactors/x.sls"), { name: "TemplateError", message: "reactors/x.sls:1: expected a value, got end of expression" });
  });

  void it("YAML errors name the rendered output's line with an excerpt, values put back", () => {
    failsWith("a: 1\nb: [1, {{ data.x }}\n", { data: { x: "v" } }, 'reactors/r.sls: rendered output line 2: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]: "b: [1, v"');
    failsWith("a: 1\n---\nb: 2\n", {}, 'reactors/r.sls: rendered output line 2: YAML syntax error: Source contains multiple documents; please use YAML.parseAllDocuments(): "---"');
  });

  void it("renders of one compiled file stay independent (the parse of a rendered text is reused)", () => {
    const sls = compileSls("{% if data.x is mapping %}m: {{ data.x }}\n{% else %}s: '{{ data.x }}'\nk_{{ data.k }}: {{ data.x }}\n{% endif %}", "r.sls");
    const first = sls.render({ data: { x: { deep: [1, 2] } } }) as { m: { deep: number[] } };
    first.m.deep.push(3); // a caller mutating its result must not reach the next render
    assert.deepEqual(sls.render({ data: { x: { deep: [1, 2] } } }), { m: { deep: [1, 2] } });
    assert.deepEqual(sls.render({ data: { x: "a: b", k: "1" } }), { s: "a: b", k_1: "a: b" });
    assert.deepEqual(sls.render({ data: { x: 7, k: "2" } }), { s: "7", k_2: 7 });
    assert.deepEqual(sls.render({ data: { x: { y: 1 } } }), { m: { y: 1 } });
    const dup = compileSls("k_{{ data.a }}: 1\nk_{{ data.b }}: 2\n", "d.sls");
    assert.deepEqual(dup.render({ data: { a: "x", b: "y" } }), { k_x: 1, k_y: 2 });
    assert.throws(() => dup.render({ data: { a: "x", b: "x" } }), /duplicate key "k_x" after inserting template values/);
    assert.deepEqual(dup.render({ data: { a: "p", b: "q" } }), { k_p: 1, k_q: 2 });
  });
});
