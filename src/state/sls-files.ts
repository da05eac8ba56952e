/** SLS names and files: `web.nginx` is `web/nginx.sls` or `web/nginx/init.sls` (Salt's get_state). */
import type { FileClient } from "./types.js";

/** A located SLS file. */
export interface SlsSource {
  /** Path relative to the roots (`web/nginx/init.sls`). */
  readonly path: string;
  readonly text: string;
}

/** Finds the file of `sls` in `saltenv`, or undefined. */
export async function readSls(
  files: FileClient,
  sls: string,
  saltenv: string,
): Promise<SlsSource | undefined> {
  const base = sls.replace(/\./g, "/");
  for (const path of [`${base}.sls`, `${base}/init.sls`]) {
    const text = await files.read(path, saltenv);
    if (text !== undefined) return { path, text };
  }
  return undefined;
}

/** The SLS names an environment has (Salt's `avail`): `a/b.sls` -> `a.b`, `a/init.sls` -> `a`. */
export async function availableSls(files: FileClient, saltenv: string): Promise<string[]> {
  const names = new Set<string>();
  for (const path of await files.list(saltenv)) {
    if (!path.endsWith(".sls")) continue;
    const stem = path.slice(0, -4);
    const name = (stem.endsWith("/init") ? stem.slice(0, -5) : stem).replace(/\//g, ".");
    if (name && stem !== "top") names.add(name);
  }
  return [...names].sort();
}

/** Salt's generate_sls_context: tplpath, tplfile, tpldir, tpldot, tplroot, slspath, sls_path, ... */
export function slsContext(path: string, sls: string): Record<string, string> {
  const tplfile = path;
  const dir = tplfile.includes("/") ? tplfile.slice(0, tplfile.lastIndexOf("/")) : "";
  return {
    tplpath: path,
    tplfile,
    tpldir: dir || ".",
    tpldot: dir.replace(/\//g, "."),
    tplroot: tplfile.split("/")[0] ?? "",
    slspath: dir,
    slsdotpath: dir.replace(/\//g, "."),
    slscolonpath: dir.replace(/\//g, ":"),
    sls_path: dir.replace(/\//g, "_"),
    sls,
  };
}
