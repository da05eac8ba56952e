/** Where file.managed's content comes from: `contents`, `salt://`, `http(s)://` with a hash, a local path. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { StateArgumentError } from "../../../core/errors.js";
import type { StateContext } from "../../types.js";

/** A hash as Salt writes `source_hash`: `sha256=hex`, `md5=hex`, bare hex (type by length), or a URL of a hash file. */
async function expectedHash(
  fun: string,
  sourceHash: string,
  source: string,
  ctx: StateContext,
): Promise<{ type: string; hex: string }> {
  let text = sourceHash.trim();
  if (/^(https?|salt|file):\/\//.test(text) || text.startsWith("/")) {
    const body = await fetchText(text, ctx);
    const base = source.slice(source.lastIndexOf("/") + 1);
    const line = body.split("\n").find((l) => l.includes(base)) ?? body.split("\n")[0] ?? "";
    text = line.trim().split(/\s+/)[0] ?? "";
  }
  const m = /^(?:(md5|sha1|sha224|sha256|sha384|sha512)=)?([0-9a-fA-F]+)$/.exec(text);
  if (!m)
    throw new StateArgumentError(
      fun,
      "source_hash",
      `is not a hash (use sha256=<hex> or a bare hex digest): ${JSON.stringify(sourceHash)}`,
    );
  const byLen: Record<number, string> = {
    32: "md5",
    40: "sha1",
    56: "sha224",
    64: "sha256",
    96: "sha384",
    128: "sha512",
  };
  const type = m[1] ?? byLen[m[2]!.length];
  if (!type)
    throw new StateArgumentError(fun, "source_hash", `has a digest of unknown length ${m[2]!.length}`);
  return { type, hex: m[2]!.toLowerCase() };
}

async function fetchBytes(url: string, ctx: StateContext): Promise<Buffer> {
  if (url.startsWith("salt://")) return readFile(await ctx.files.cache(url, ctx.saltenv));
  if (url.startsWith("file://")) return readFile(url.slice("file://".length));
  if (url.startsWith("/")) return readFile(url);
  const res = await fetch(url, { signal: ctx.signal });
  if (!res.ok) throw new Error(`Unable to fetch ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function fetchText(url: string, ctx: StateContext): Promise<string> {
  return (await fetchBytes(url, ctx)).toString("utf8");
}

/** Whether a source exists (first of a list that does wins). */
async function sourceExists(url: string, ctx: StateContext): Promise<boolean> {
  if (url.startsWith("salt://")) return (await ctx.files.hash(url, ctx.saltenv)) !== undefined;
  if (url.startsWith("http://") || url.startsWith("https://")) return true;
  try {
    await readFile(url.startsWith("file://") ? url.slice(7) : url);
    return true;
  } catch {
    return false;
  }
}

/** The source's bytes (verified against `source_hash` for remote sources), or a failure comment. */
export async function loadSource(
  fun: string,
  sources: readonly string[],
  opts: { sourceHash?: string; skipVerify: boolean },
  ctx: StateContext,
): Promise<{ url: string; data: Buffer } | { fail: string }> {
  let url: string | undefined;
  for (const s of sources)
    if (await sourceExists(s, ctx)) {
      url = s;
      break;
    }
  if (!url) return { fail: `Source file ${sources.join(", ")} not found in saltenv '${ctx.saltenv}'` };
  const remote = url.startsWith("http://") || url.startsWith("https://");
  if (remote && !opts.sourceHash && !opts.skipVerify)
    return {
      fail: `Unable to verify upstream hash of source file ${url}, please set source_hash or set skip_verify to True`,
    };
  const data = await fetchBytes(url, ctx);
  if (opts.sourceHash && !opts.skipVerify) {
    const want = await expectedHash(fun, opts.sourceHash, url, ctx);
    const got = createHash(want.type).update(data).digest("hex");
    if (got !== want.hex)
      return {
        fail: `Specified ${want.type} checksum for ${url} (${want.hex}) does not match actual checksum (${got})`,
      };
  }
  return { url, data };
}
