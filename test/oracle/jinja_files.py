#!/usr/bin/env python3
"""
Differential oracle for templates that load other templates (macros, import, from-import,
include, call blocks, loop controls): the real Jinja2 as Salt configures it for state files
(SandboxedEnvironment, StrictUndefined, keep_trailing_newline, the do and loopcontrols
extensions, the render context also in the globals, as salt/utils/templates.py does).

One long-lived process; each stdin line is {"id", "files": {name: source}, "main", "context"},
each stdout line {"id", "ok", "text"} or {"id", "ok": false, "error"}.
"""
import json
import sys

import jinja2
import jinja2.sandbox


def finalize(v):
    # Python's str() of None/True/False is what Salt's templates print; Jinja2 does the same.
    return v


for line in sys.stdin:
    req = json.loads(line)
    try:
        env = jinja2.sandbox.SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            loader=jinja2.DictLoader(req["files"]),
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        )
        env.globals.update(req["context"])
        text = env.get_template(req["main"]).render(**req["context"])
        out = {"id": req["id"], "ok": True, "text": text}
    except Exception as exc:  # noqa: BLE001 - the error text is the answer
        out = {"id": req["id"], "ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
