#!/usr/bin/env python3
"""
The differential oracle of rendering: Salt's pipeline with the real Jinja2 and PyYAML.

One long-lived process; each stdin line is a JSON request {"id", "template", "tag", "data"}, each
stdout line the answer {"id", "salt", "safe", "text"}:
- "salt": what Salt ends with: Jinja2's SandboxedEnvironment with StrictUndefined (Salt's
  salt/utils/templates.py unless allow_undefined), then Salt's loader (salt/utils/yamlloader.py,
  reimplemented below in a few lines: SafeLoader, leading zeros of ints stripped, timestamps kept as
  text, a duplicate key an error). {"ok": true, "value": ...} or {"ok": false, "error": "..."}.
- "safe": the rule of docs/reactor.md ("Event data is data, with the values Salt ends with")
  computed with PyYAML itself: outputs become tokens, the text is composed, and each token goes back
  as Salt would read its text, unless PyYAML would read that text as more than the one scalar.
Where the two agree, nats-reactor must give that value; where they differ, data text was read as
YAML by Salt (or Salt failed) and nats-reactor must give "safe".
"""
import json
import math
import re
import sys

import jinja2
import jinja2.sandbox
import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode


class SaltLoader(yaml.SafeLoader):
    """Salt's SaltYamlSafeLoader, as far as values go."""

    def construct_scalar(self, node):
        if node.tag == "tag:yaml.org,2002:int" and node.value != "0":
            if node.value.startswith("0") and not node.value.startswith(("0b", "0x")):
                node.value = node.value.lstrip("0") or "0"
        return super().construct_scalar(node)

    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            value = self.construct_object(value_node, deep=deep)
            if key in mapping:
                raise ConstructorError(None, None, "found conflicting ID '{}'".format(key), key_node.start_mark)
            mapping[key] = value
        return mapping


SaltLoader.add_constructor("tag:yaml.org,2002:timestamp", SaltLoader.construct_scalar)
SaltLoader.add_constructor("tag:yaml.org,2002:map", SaltLoader.construct_yaml_map)


def salt_load(text):
    return yaml.load(text, Loader=SaltLoader)


def salt_json(value, *args, **kwargs):
    # Salt's `json` filter (SerializerExtension.format_json): json.dumps with sorted keys
    return json.dumps(value, sort_keys=True)


class Filtered:
    """A `json` filter output seen by the token pass."""

    def __init__(self, value):
        self.value = value


def make_env(json_filter, finalize=None):
    # Salt puts back the final newline Jinja drops (salt/utils/templates.py): keep_trailing_newline
    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, finalize=finalize, keep_trailing_newline=True)
    env.filters["json"] = json_filter
    env.filters["tojson"] = json_filter
    return env


SALT_ENV = make_env(salt_json)


def render_salt(template, ctx):
    try:
        text = SALT_ENV.from_string(template).render(**ctx)
    except Exception as e:  # noqa: BLE001 - the oracle reports any failure
        return {"ok": False, "error": "template: %s: %s" % (type(e).__name__, e)}, None
    try:
        return {"ok": True, "value": salt_load(text)}, text
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": "yaml: %s" % str(e).split("\n")[0]}, text


TOKEN = re.compile(r"ORCL(\d+)Z")


def py_text(v):
    return str(v)


def plain_value(text, flow):
    """(True, value) if PyYAML reads `text` as exactly that one plain scalar here, else (False, None)."""
    if text == "":
        return True, None
    try:
        node = yaml.compose(("[%s]" if flow else "k: %s") % text, Loader=SaltLoader)
    except Exception:  # noqa: BLE001
        return False, None
    if flow:
        ok = isinstance(node, SequenceNode) and len(node.value) == 1 and isinstance(node.value[0], ScalarNode)
        scalar = node.value[0] if ok else None
    else:
        ok = isinstance(node, MappingNode) and len(node.value) == 1 and isinstance(node.value[0][1], ScalarNode)
        scalar = node.value[0][1] if ok else None
    if not ok or scalar.style is not None or scalar.value != text:
        return False, None
    try:
        return True, salt_load(("[%s]" if flow else "k: %s") % text)[0 if flow else "k"]
    except Exception:  # noqa: BLE001 - a scalar Salt cannot construct (`<<`, `=`) stays text
        return False, None


def salt_float(f):
    # a float inside a repr() (or JSON) is read back from Python's text of it
    return plain_value(repr(f), False)[1]


def salt_data(v):
    """A list or dict as Salt reads its repr() back; strings keep their text (the rule's choice)."""
    if v is None:
        return "None"
    if isinstance(v, float):
        return salt_float(v)
    if isinstance(v, list):
        return [salt_data(x) for x in v]
    if isinstance(v, dict):
        return {k: salt_data(x) for k, x in v.items()}
    return v


def json_data(v):
    if isinstance(v, float):
        return salt_float(v)
    if isinstance(v, list):
        return [json_data(x) for x in v]
    if isinstance(v, dict):
        return {k: json_data(x) for k, x in v.items()}
    return v


def render_safe(template, ctx):
    outputs = []

    @jinja2.pass_context
    def token(_ctx, value):
        outputs.append(value)
        return "ORCL%dZ" % (len(outputs) - 1)

    env = make_env(lambda v, *a, **k: Filtered(v), finalize=token)
    try:
        text = env.from_string(template).render(**ctx)
        node = yaml.compose(text, Loader=SaltLoader)
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0])}

    def out_text(i):
        o = outputs[int(i)]
        return salt_json(o.value) if isinstance(o, Filtered) else py_text(o)

    def subst(s):
        return TOKEN.sub(lambda m: out_text(m.group(1)), s)

    loader = SaltLoader("")

    def build(n, flow):
        if isinstance(n, MappingNode):
            loader.flatten_mapping(n)
            out = {}
            for k, v in n.value:
                key = subst(k.value) if TOKEN.search(k.value or "") else loader.construct_object(k, deep=True)
                if key in out:
                    raise ValueError("duplicate key %r" % (key,))
                out[key] = build(v, bool(n.flow_style))
            return out
        if isinstance(n, SequenceNode):
            return [build(x, bool(n.flow_style)) for x in n.value]
        if not TOKEN.search(n.value):
            return loader.construct_object(n, deep=True)
        if n.style is not None or n.tag != "tag:yaml.org,2002:str":
            return subst(n.value)
        whole = TOKEN.fullmatch(n.value)
        if whole:
            o = outputs[int(whole.group(1))]
            if isinstance(o, Filtered):
                return json_data(o.value)
            if isinstance(o, (list, dict)):
                return salt_data(o)
        t = subst(n.value)
        ok, value = plain_value(t.strip(" "), flow)
        return value if ok else t

    try:
        return {"ok": True, "value": None if node is None else build(node, False)}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}


def to_json(v):
    """Values as JSON: floats that JSON lacks are tagged; keys become text as a JS object has them."""
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(v, dict):
        return {(("true" if k else "false") if isinstance(k, bool) else ("" if k is None else str(k))): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return {"$other": repr(v)}


def answer(result):
    if result["ok"]:
        return {"ok": True, "value": to_json(result["value"])}
    return result


def main():
    for line in sys.stdin:
        req = json.loads(line)
        ctx = {"tag": req.get("tag", ""), "data": req.get("data", {})}
        salt, text = render_salt(req["template"], ctx)
        safe = render_safe(req["template"], ctx)
        sys.stdout.write(json.dumps({"id": req["id"], "salt": answer(salt), "safe": answer(safe), "text": text}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
