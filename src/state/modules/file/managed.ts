/**
 * file.managed (salt/states/file.py managed): a file with the content of `source` (salt://,
 * http(s) with source_hash, a local path), `contents`, or a Jinja template of either, and with
 * user/group/mode. The change is a unified diff; test mode reports it and touches nothing.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { StateArgumentError } from "../../../core/errors.js";
import { checkApply, type Check } from "../check-apply.js";
import type { StateContext } from "../../types.js";
import { absPath, bool, str, strList } from "./args.js";
import { unifiedDiff } from "./diff.js";
import { applyPerms, parseMode, permChanges, type Perms } from "./perms.js";
import { loadSource } from "./source.js";

const FUN = "file.managed";
const TEST_NOTE = "\nNote: No changes made, actual changes may\nbe different due to other states.";

interface Managed {
  readonly path: string | { fail: string };
  readonly sources?: string[];
  readonly contents?: string;
  readonly template?: string;
  readonly context: Record<string, unknown>;
  readonly sourceHash?: string;
  readonly skipVerify: boolean;
  readonly perms: Perms;
  readonly dirMode?: string;
  readonly makedirs: boolean;
  readonly replace: boolean;
  readonly create: boolean;
  readonly showChanges: boolean;
}

function contentsOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const text = Array.isArray(v) ? v.map(String).join("\n") : typeof v === "string" ? v : String(v);
  return text.endsWith("\n") ? text : `${text}\n`;
}

async function wanted(
  m: Managed,
  ctx: StateContext,
): Promise<{ text: Buffer } | { fail: string } | { none: true }> {
  let data: Buffer;
  let file = "contents";
  if (m.contents !== undefined) data = Buffer.from(m.contents);
  else if (m.sources) {
    const got = await loadSource(
      FUN,
      m.sources,
      { ...(m.sourceHash ? { sourceHash: m.sourceHash } : {}), skipVerify: m.skipVerify },
      ctx,
    );
    if ("fail" in got) return got;
    data = got.data;
    file = got.url.startsWith("salt://") ? got.url.slice(7) : got.url;
  } else return { none: true };
  if (m.template) {
    if (m.template !== "jinja")
      return { fail: `Specified template format ${m.template} is not supported (jinja is)` };
    const out = await ctx.render(data.toString("utf8"), file, m.context, { saltenv: ctx.saltenv });
    data = Buffer.from(out);
  }
  return { text: data };
}

export const managed = checkApply<Managed>({
  parse(a) {
    const defaults = a.defaults ?? {};
    const context = a.context ?? {};
    if (typeof defaults !== "object" || typeof context !== "object")
      throw new StateArgumentError(FUN, "context", "and defaults must be mappings");
    const sources = strList(FUN, a, "source");
    const contents = contentsOf(a.contents);
    if (sources && contents !== undefined)
      throw new StateArgumentError(FUN, "contents", "cannot be used with source");
    const template = str(FUN, a, "template");
    const sourceHash = str(FUN, a, "source_hash");
    const user = str(FUN, a, "user");
    const group = str(FUN, a, "group");
    const mode = parseMode(FUN, "mode", a.mode);
    const dirMode = parseMode(FUN, "dir_mode", a.dir_mode);
    return {
      path: absPath(a),
      ...(sources ? { sources } : {}),
      ...(contents !== undefined ? { contents } : {}),
      ...(template ? { template: template.toLowerCase() } : {}),
      context: { ...(defaults as object), ...(context as object) },
      ...(sourceHash ? { sourceHash } : {}),
      skipVerify: bool(FUN, a, "skip_verify", false),
      perms: { ...(user ? { user } : {}), ...(group ? { group } : {}), ...(mode ? { mode } : {}) },
      ...(dirMode ? { dirMode } : {}),
      makedirs: bool(FUN, a, "makedirs", false),
      replace: bool(FUN, a, "replace", true),
      create: bool(FUN, a, "create", true),
      showChanges: bool(FUN, a, "show_changes", true),
    };
  },
  async check(m, ctx): Promise<Check> {
    if (typeof m.path !== "string") return { kind: "fail", comment: m.path.fail };
    const path = m.path;
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory()) return { kind: "fail", comment: `Specified target ${path} is a directory` };
    if (!st && !m.create)
      return { kind: "ok", comment: `File ${path} is not present and is not set for creation` };
    const want = st && !m.replace ? { none: true as const } : await wanted(m, ctx);
    if ("fail" in want) return { kind: "fail", comment: want.fail };
    const changes: Record<string, unknown> = {};
    if (!st) {
      if (!m.makedirs && !(await stat(dirname(path)).catch(() => undefined)))
        return { kind: "fail", comment: `Parent directory not present` };
      if (ctx.test) changes.newfile = path;
      else changes.diff = "New file";
    } else if ("text" in want) {
      const have = await readFile(path);
      if (!have.equals(want.text))
        changes.diff = m.showChanges ? diffOf(have, want.text) : "<show_changes=False>";
    }
    if (st) Object.assign(changes, await permChanges(path, m.perms));
    if (!Object.keys(changes).length) return { kind: "ok", comment: `File ${path} is in the correct state` };
    return {
      kind: "change",
      changes,
      comment: ctx.test ? `The file ${path} is set to be changed${TEST_NOTE}` : "",
    };
  },
  async apply(m, found, ctx) {
    const path = m.path as string;
    const changes: Record<string, unknown> = { ...found.changes };
    const want = await wanted(m, ctx);
    if ("fail" in want) return { result: false, changes: {}, comment: want.fail };
    if ("text" in want && (changes.diff !== undefined || changes.newfile !== undefined)) {
      await mkdir(dirname(path), { recursive: true, ...(m.dirMode ? { mode: parseInt(m.dirMode, 8) } : {}) });
      const tmp = `${path}.reactor-${process.pid}.tmp`;
      const prev = await stat(path).catch(() => undefined);
      await writeFile(tmp, want.text, {
        mode: m.perms.mode ? parseInt(m.perms.mode, 8) : prev ? prev.mode & 0o7777 : 0o644,
      });
      await rename(tmp, path);
    } else if (!(await stat(path).catch(() => undefined))) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, "");
    }
    Object.assign(changes, await applyPerms(path, m.perms));
    delete changes.newfile;
    if (found.changes.newfile !== undefined) changes.diff = "New file";
    return { result: true, changes, comment: `File ${path} updated` };
  },
});

function diffOf(before: Buffer, after: Buffer): string {
  if (before.includes(0) || after.includes(0)) return "Replace binary file";
  return unifiedDiff(before.toString("utf8"), after.toString("utf8"));
}
