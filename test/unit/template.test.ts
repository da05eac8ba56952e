import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { TemplateError } from "../../src/core/errors.js";
import { compileTemplate, type OutputHook } from "../../src/core/template/index.js";

const r = (src: string, ctx: Record<string, unknown> = {}, out?: OutputHook): string => compileTemplate(src, "t.sls").render(ctx, out);

/** Asserts that rendering (or compiling) throws a TemplateError with exactly `message`. */
function fails(src: string, ctx: Record<string, unknown>, message: string): void {
  assert.throws(
    () => r(src, ctx),
    (err: unknown) => {
      if (!(err instanceof TemplateError)) throw new assert.AssertionError({ message: `expected TemplateError, got ${String(err)}` });
      assert.equal(err.message, message);
      assert.equal(err.code, "E_TEMPLATE");
      return true;
    },
  );
}

void describe("template output", () => {
  void it("prints values like Python's str(), lists and dicts as their repr()", () => {
    assert.equal(r("{{ none }} {{ None }} {{ true }} {{ False }} {{ 3 }} {{ 1.5 }} {{ 'x' }}"), "None None True False 3 1.5 x");
    assert.equal(r("{{ [1, 'a', none] }} {{ {'k': [true]} }}"), "[1, 'a', None] {'k': [True]}");
    assert.equal(r("{{ d }}", { d: { s: "it's", q: "a\\b\n\u00e9\u0007", f: [0.0001, 1e-5, 1e16, 2.5e-7, -1.25, 1e22] } }), `{'s': "it's", 'q': 'a\\\\b\\n\u00e9\\x07', 'f': [0.0001, 1e-05, 1e+16, 2.5e-07, -1.25, 1e+22]}`);
    assert.equal(r("{{ 0.1 + 0.2 }} {{ 1e100 * 1.5 }} {{ 'x' ~ {'a': none} }}"), "0.30000000000000004 1.5000000000000001e+100 x{'a': None}");
    assert.equal(r("{{ data.s }}", { data: { s: "a\nb: c {{ x }}" } }), "a\nb: c {{ x }}");
  });

  void it("keeps text, comments vanish, raw blocks are verbatim", () => {
    assert.equal(r("a {# comment {{ x }} #}b"), "a b");
    assert.equal(r("{% raw %}{{ x }}{% if %}{% endraw %}!"), "{{ x }}{% if %}!");
    assert.equal(r("x: 1\n"), "x: 1\n");
  });

  void it("does not trim blocks by default, and strips whitespace on '-'", () => {
    assert.equal(r("{% if true %}\nfoo\n{% endif %}\n"), "\nfoo\n\n");
    assert.equal(r("a  \n  {%- if true -%}  \n b {%- endif %}"), "ab");
    assert.equal(r("[ {{- 1 -}} ]"), "[1]");
    assert.equal(r("a {#- c -#} b"), "ab");
  });

  void it("the hook sees every output, and the value before a json or yaml filter", () => {
    const seen: unknown[] = [];
    const hook: OutputHook = (v, f) => {
      seen.push([v, f]);
      return "#";
    };
    assert.equal(r("{{ x }}-{{ x | json }}-{{ x | tojson }}-{{ x | yaml }}-{{ x | json | length }}", { x: [1] }, hook), "#-#-#-#-#");
    assert.deepEqual(seen, [
      [[1], null],
      [[1], "json"],
      [[1], "json"],
      [[1], "yaml"],
      [3, null],
    ]);
  });
});

void describe("template statements", () => {
  void it("if / elif / else", () => {
    const t = compileTemplate("{% if n > 2 %}big{% elif n == 2 %}two{% else %}small{% endif %}", "t.sls");
    assert.deepEqual([1, 2, 3].map((n) => t.render({ n })), ["small", "two", "big"]);
  });

  void it("for with loop variables, else, unpacking and a filter", () => {
    assert.equal(r("{% for x in xs %}{{ loop.index }}{{ x }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %},{% endfor %}", { xs: ["a", "b", "c"] }), "1aF,2b,3cL,");
    assert.equal(r("{% for x in xs %}{{ x }}{% else %}none{% endfor %}", { xs: [] }), "none");
    assert.equal(r("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", { d: { a: 1, b: "x" } }), "a=1;b=x;");
    assert.equal(r("{% for k in d %}{{ k }}{% endfor %}", { d: { a: 1, b: 2 } }), "ab");
    assert.equal(r("{% for x in range(6) if x is even %}{{ x }}{% endfor %}"), "024");
    assert.equal(r("{% for c in 'ab' %}{{ c }}.{% endfor %}"), "a.b.");
  });

  void it("set, with for-loop scope", () => {
    assert.equal(r("{% set x = 'a' ~ 1 %}{{ x }}"), "a1");
    assert.equal(r("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "21");
    assert.equal(r("{% set a, b = [1, 2] %}{{ b }}{{ a }}"), "21");
  });

  void it("reports syntax errors with the line", () => {
    fails("a\n{% if x %}\nb", {}, "t.sls:2: '{% if %}' is never closed (missing '{% endif %}')");
    fails("{% endfor %}", {}, "t.sls:1: unexpected '{% endfor %}'");
    fails("\n\n{% macro m() %}", {}, "t.sls:3: '{% macro %}' is never closed (missing '{% endmacro %}')");
    fails("{% block x %}", {}, "t.sls:1: unsupported tag 'block'");
    fails("{{ x | nosuch }}", {}, "t.sls:1: no filter named 'nosuch'");
    fails("\n{{ x is nosuch }}", {}, "t.sls:2: no test named 'nosuch'");
    fails("x\n{{ 1 + }}", {}, "t.sls:2: expected a value, got end of expression");
    fails("{{ x", {}, "t.sls:1: unclosed '{{'");
    fails("{{ 'abc }}", {}, "t.sls:1: unclosed '{{'");
    fails("{% for x in %}{% endfor %}", {}, "t.sls:1: expected a value, got end of expression");
  });
});

void describe("template expressions", () => {
  void it("arithmetic, concatenation and precedence like Python", () => {
    assert.equal(r("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 3 }}"), "7 3 -4 1 2 3.5 8");
    assert.equal(r("{{ 'a' ~ 1 ~ none }} {{ 'ab' + 'c' }} {{ [1] + [2] }} {{ 'ab' * 2 }} {{ '%s-%s' % ('a', 1) }}"), "a1None abc [1, 2] abab a-1");
    assert.equal(r("{{ (1 + 2) * 3 }} {{ - 2 + 1 }}"), "9 -1");
    fails("{{ 1 / 0 }}", {}, "t.sls:1: division by zero");
    fails("{{ 'a' + 1 }}", {}, "t.sls:1: unsupported operand types for +: 'str' and 'int'");
  });

  void it("comparisons, in, boolean logic and the conditional expression", () => {
    assert.equal(r("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 2] }} {{ 'k' in d }}", { d: { k: 0 } }), "True False True False True");
    assert.equal(r("{{ [1, {'a': 2}] == [1, {'a': 2}] }} {{ false == 0 }} {{ none == none }} {{ 1 != '1' }}"), "True True True True");
    assert.equal(r("{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not [] }} {{ 'a' if 0 else 'b' }}"), "x y True b");
    assert.equal(r("{{ not x is defined }} {{ x is not defined and true }}"), "True True");
    fails("{{ 1 < 'a' }}", {}, "t.sls:1: '<' not supported between 'int' and 'str'");
  });

  void it("attribute, item, negative index and slice access", () => {
    const ctx = { data: { id: "web1", l: [1, 2, 3, 4], d: { "a-b": { c: "deep" } } } };
    assert.equal(r("{{ data.id }} {{ data['id'] }} {{ data.l[-1] }} {{ data.l.0 }} {{ data.d['a-b'].c }}", ctx), "web1 web1 4 1 deep");
    assert.equal(r("{{ data.l[1:3] }} {{ data.l[::-1] }} {{ data.id[:3] }} {{ data.l[-2:] }}", ctx), "[2, 3] [4, 3, 2, 1] web [3, 4]");
  });

  void it("literals: strings with escapes, adjacent strings, numbers, lists, dicts, tuples", () => {
    assert.equal(r(`{{ 'it\\'s' }} {{ "a\\tb" }} {{ 'a' 'b' }} {{ 1_000 }} {{ (1, 2) }} {{ {'a': {'b': 1}} }}`), `it's a\tb ab 1000 [1, 2] {'a': {'b': 1}}`);
  });

  void it("calls only functions put in the context, with keyword arguments as a last object", () => {
    const calls: unknown[] = [];
    const mine = (...args: unknown[]): unknown => {
      calls.push(args);
      return { web1: ["10.0.0.1"] };
    };
    assert.equal(r("{{ mine('web*', 'network.ip_addrs', tgt_type='glob')['web1'][0] }}", { mine }), "10.0.0.1");
    assert.deepEqual(calls, [["web*", "network.ip_addrs", { tgt_type: "glob" }]]);
    fails("{{ data.id() }}", { data: { id: "x" } }, "t.sls:1: 'data.id' is not callable");
  });
});

void describe("template methods", () => {
  void it("dict methods", () => {
    const d = { a: 1, b: null };
    assert.equal(r("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys() }} {{ d.values() }} {{ d.items() }}", { d }), `1 None dflt ['a', 'b'] [1, None] [['a', 1], ['b', None]]`);
  });

  void it("string methods", () => {
    assert.equal(r("{{ 'web1'.startswith('web') }} {{ 'a.log'.endswith(('.txt', '.log')) }} {{ ' x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ ' a'.lstrip() }}|{{ 'a '.rstrip() }}|"), "True True x|hi|a|a|");
    assert.equal(r("{{ ' a  b c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c'.split(maxsplit=1) }} {{ 'a,,b'.split(',') }}"), "['a', 'b', 'c'] ['a', 'b,c'] ['a', 'b c'] ['a', '', 'b']");
    assert.equal(r("{{ 'Ab'.lower() }}{{ 'Ab'.upper() }} {{ 'aaa'.replace('a', 'b', 2) }} {{ '-'.join(['a', 1]) }}"), "abAB bba a-1");
    assert.equal(r("{{ '{} and {}'.format('x', none) }} {{ '{1}{0}'.format('a', 'b') }} {{ '{n}!'.format(n=3) }} {{ '{{}}'.format() }}"), "x and None ba 3! {}");
  });

  void it("list methods", () => {
    assert.equal(r("{{ [1, 2, 2].index(2) }} {{ [1, 2, 2].count(2) }}"), "1 2");
    fails("{{ [1].index(5) }}", {}, "t.sls:1: 5 is not in list");
  });
});

void describe("template filters", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["{{ x | json }}", { x: { a: [1, "b"] } }, '{"a":[1,"b"]}'],
    ["{{ x | tojson }}", { x: "q\"" }, '"q\\""'],
    ["{{ x | yaml }}", { x: [1] }, "[1]"],
    ["{{ x | default('d') }} {{ x | d('e') }} {{ '' | default('f') }}|{{ '' | default('g', true) }} {{ none | d('h', boolean=true) }}", {}, "d e |g h"],
    ["{{ 'AbC' | lower }} {{ 'abc' | upper }} {{ 'aXa' | replace('a', 'b') }}", {}, "abc ABC bXb"],
    ["{{ [1, 'a'] | join }} {{ [1, 'a'] | join(', ') }} {{ users | join(',', attribute='name') }}", { users: [{ name: "u1" }, { name: "u2" }] }, "1a 1, a u1,u2"],
    ["{{ [1, 2] | length }} {{ 'abc' | count }} {{ {'a': 1} | length }}", {}, "2 3 1"],
    ["{{ [1, 2] | first }} {{ [1, 2] | last }} {{ 'ab' | list }} {{ {'k': 1} | list }}", {}, "1 2 ['a', 'b'] ['k']"],
    ["{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '1.5' | float }} {{ 3 | string }}", {}, "42 4 0 7 1.5 3"],
    ["[{{ '  a b  ' | trim }}] {{ [3, 1, 3, 2, 1] | unique }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort(reverse=true) }}", {}, "[a b] [3, 1, 2] [1, 2, 3] ['c', 'b', 'A']"],
    ["{{ {'b': 1, 'a': 2} | dictsort }}", {}, "[['a', 2], ['b', 1]]"],
    ["{{ users | map(attribute='name') | list }} {{ ['A', 'B'] | map('lower') | join }}", { users: [{ name: "u1" }, { name: "u2" }] }, "['u1', 'u2'] ab"],
    ["{{ [0, 1, none, 'a'] | select | list }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }}", {}, "[1, 'a'] [1, 3] [1, 3]"],
    ["{{ 'web12.example' | regex_match('web(\\\\d+)\\\\.(.*)') }} {{ 'xweb1' | regex_match('web') }} {{ 'xweb1' | regex_search('web(\\\\d)') }}", {}, "['12', 'example'] None ['1']"],
    ["{{ 'a1b22' | regex_replace('\\\\d+', '#') }} {{ 'ABC' | regex_replace('b', '-', ignorecase=true) }} {{ 'k=v' | regex_replace('(\\\\w)=(\\\\w)', '\\\\2=\\\\1') }}", {}, "a#b# A-C v=k"],
    ["{{ 'simple' | quote }} {{ \"it's x\" | quote }} {{ '' | quote }}", {}, `simple 'it'"'"'s x' ''`],
  ];
  for (const [src, ctx, want] of cases) {
    void it(src, () => assert.equal(r(src, ctx), want));
  }
});

void describe("template tests", () => {
  void it("defined, none, string, number, mapping, match and negation", () => {
    const ctx = { d: { s: "web1", n: 2, z: null, m: {} } };
    assert.equal(r("{{ d.s is defined }} {{ d.x is defined }} {{ d.x is undefined }} {{ nope is defined }} {{ d.z is none }} {{ d.s is not none }}", ctx), "True False True False True True");
    assert.equal(r("{{ d.s is string }} {{ d.n is string }} {{ d.n is number }} {{ d.m is mapping }} {{ d.s is mapping }}", ctx), "True False True True False");
    assert.equal(r("{{ d.s is match('web\\\\d') }} {{ d.s is match('eb') }} {{ d.s is match('WEB', ignorecase=true) }} {{ d.s is not match('db') }}", ctx), "True False True True");
    assert.equal(r("{{ d.n is divisibleby 2 }} {{ d.n is equalto 2 }}", ctx), "True True");
  });
});

void describe("StrictUndefined", () => {
  void it("names the undefined variable, attribute or key and the template line", () => {
    fails("a: 1\n{{ foo }}", {}, "t.sls:2: 'foo' is undefined");
    fails("\n\n{{ data.ids }}", { data: {} }, "t.sls:3: 'data' has no attribute 'ids'");
    fails("x\n{{ data['ids'] }}", { data: {} }, "t.sls:2: 'data' has no attribute 'ids'");
    fails("{{ data.a.b.c }}", { data: { a: { b: {} } } }, "t.sls:1: 'data.a.b' has no attribute 'c'");
    fails("{{ data.l[5] }}", { data: { l: [] } }, "t.sls:1: 'data.l' has no item 5");
    fails("{% if data.missing %}x{% endif %}", { data: {} }, "t.sls:1: 'data' has no attribute 'missing'");
    fails("{% for x in nope %}{% endfor %}", {}, "t.sls:1: 'nope' is undefined");
    fails("{{ nope | lower }}", {}, "t.sls:1: 'nope' is undefined");
    fails("{{ nope == 1 }}", {}, "t.sls:1: 'nope' is undefined");
    fails("{{ data.x.y is defined }}", { data: {} }, "t.sls:1: 'data' has no attribute 'x'");
  });

  void it("is quiet under is defined, default and .get", () => {
    assert.equal(r("{{ data.x is defined }} {{ data.x | default(1) }} {{ data.get('x', 2) }}", { data: {} }), "False 1 2");
  });
});

void describe("sandbox", () => {
  const data = { id: "web1", list: [1] };
  void it("never reaches prototypes", () => {
    fails("{{ data.__proto__ }}", { data }, "t.sls:1: 'data' has no attribute '__proto__'");
    fails("{{ data['__proto__'] }}", { data }, "t.sls:1: 'data' has no attribute '__proto__'");
    fails("{{ data.constructor }}", { data }, "t.sls:1: 'data' has no attribute 'constructor'");
    fails("{{ data.constructor.constructor('return process')() }}", { data }, "t.sls:1: 'data' has no attribute 'constructor'");
    fails("{{ ''.constructor }}", {}, "t.sls:1: 'value' has no attribute 'constructor'");
    fails("{{ data.list.constructor }}", { data }, "t.sls:1: 'data.list' has no attribute 'constructor'");
    fails("{{ data.toString() }}", { data }, "t.sls:1: 'data' has no attribute 'toString'");
    fails("{{ data.hasOwnProperty }}", { data }, "t.sls:1: 'data' has no attribute 'hasOwnProperty'");
    fails("{{ data.id.length }}", { data }, "t.sls:1: 'data.id' has no attribute 'length'");
    fails("{{ toString }}", {}, "t.sls:1: 'toString' is undefined");
    fails("{{ constructor }}", {}, "t.sls:1: 'constructor' is undefined");
  });

  void it("does not expose methods of class instances or of functions", () => {
    class Helper {
      secret(): string {
        return "s";
      }
    }
    fails("{{ h.secret() }}", { h: new Helper() }, "t.sls:1: 'h' has no attribute 'secret'");
    const f = (): string => "ok";
    fails("{{ f.call }}", { f }, "t.sls:1: 'f' has no attribute 'call'");
    assert.equal(r("{{ f() }}", { f }), "ok");
  });

  void it("a __proto__ key in a dict literal is a plain key", () => {
    assert.equal(r("{% set d = {'__proto__': 1} %}{{ d | json }} {{ d.keys() }}"), `{"__proto__":1} ['__proto__']`);
  });

  void it("event data is never template source", () => {
    assert.equal(r("{{ data.s }}", { data: { s: "{{ 7*7 }}{% for %}" } }), "{{ 7*7 }}{% for %}");
  });
});
