/**
 * `archive.extracted` (salt/states/archive.py): an archive (`source` salt://, http(s) with
 * `source_hash`, or a local path; tar, tar.gz/bz2/xz, zip when `unzip` exists) unpacked into
 * `name`. Extracts when `if_missing` (default: the archive's top-level entries under `name`) is
 * absent; `enforce_toplevel` (default True) refuses an archive with several top-level entries.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";
import { mustRun } from "../run.js";

async function fetchArchive(src: string, a: StateArgs, ctx: StateContext, dir: string): Promise<string> {
  if (src.startsWith("salt://")) return ctx.files.cache(src, ctx.saltenv);
  if (src.startsWith("http://") || src.startsWith("https://")) {
    const res = await fetch(src, { signal: ctx.signal });
    if (!res.ok) throw new Error(`Unable to fetch ${src}: HTTP ${res.status}`);
    const data = Buffer.from(await res.arrayBuffer());
    const hash = typeof a.source_hash === "string" ? a.source_hash : undefined;
    if (!hash && a.skip_verify !== true)
      throw new Error(
        `Unable to verify upstream hash of source file ${src}, please set source_hash or set skip_verify to True`,
      );
    if (hash) {
      const [type, hex] = hash.includes("=") ? hash.split("=") : ["sha256", hash];
      const got = createHash(type!).update(data).digest("hex");
      if (got !== hex!.toLowerCase())
        throw new Error(
          `Specified ${type} checksum for ${src} (${hex}) does not match actual checksum (${got})`,
        );
    }
    const path = join(dir, "archive");
    await writeFile(path, data);
    return path;
  }
  return src.replace(/^file:\/\//, "");
}

function formatOf(a: StateArgs, src: string): "tar" | "zip" {
  const f = typeof a.archive_format === "string" ? a.archive_format : /\.zip$/i.test(src) ? "zip" : "tar";
  if (f !== "tar" && f !== "zip") throw new Error(`Unsupported archive_format '${f}' (tar or zip)`);
  return f;
}

async function extracted(a: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const name = a.name;
  const src = typeof a.source === "string" ? a.source : undefined;
  if (!src) return { result: false, changes: {}, comment: "archive.extracted needs a source" };
  const tmp = await mkdtemp(join(tmpdir(), "reactor-archive-"));
  try {
    const file = await fetchArchive(src, a, ctx, tmp);
    const format = formatOf(a, src);
    const listing =
      format === "tar"
        ? await mustRun(ctx, ["tar", "-tf", file])
        : await mustRun(ctx, ["unzip", "-Z1", file]);
    const tops = [
      ...new Set(
        listing
          .split("\n")
          .filter(Boolean)
          .map((p) => p.replace(/^\.\//, "").split("/")[0]!)
          .filter(Boolean),
      ),
    ];
    if (a.enforce_toplevel !== false && tops.length !== 1)
      return {
        result: false,
        changes: {},
        comment: `Archive does not have a single top-level directory. To allow this archive to be extracted, set "enforce_toplevel" to False.`,
      };
    const marker =
      typeof a.if_missing === "string" ? a.if_missing : tops.length === 1 ? join(name, tops[0]!) : undefined;
    if (marker && (await stat(marker).catch(() => undefined)))
      return { result: true, changes: {}, comment: `${marker} exists` };
    if (ctx.test)
      return { result: null, changes: {}, comment: `Archive ${src} would be extracted to ${name}` };
    await mkdir(name, { recursive: true });
    if (format === "tar") await mustRun(ctx, ["tar", "-xf", file, "-C", name]);
    else await mustRun(ctx, ["unzip", "-o", "-q", file, "-d", name]);
    for (const [flag, v] of [
      ["user", a.user],
      ["group", a.group],
    ] as const) {
      if (typeof v === "string")
        for (const t of tops)
          await mustRun(ctx, ["chown", "-R", flag === "user" ? v : `:${v}`, join(name, t)]);
    }
    return {
      result: true,
      changes: { extracted_files: tops.map((t) => join(name, t)) },
      comment: `${src} extracted to ${name}`,
    };
  } catch (err) {
    return { result: false, changes: {}, comment: (err as Error).message };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export const archiveStates: StateModule = { name: "archive", functions: { extracted } };
