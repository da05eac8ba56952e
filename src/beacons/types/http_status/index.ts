/**
 * `http_status`: health endpoints (the beacon Salt designed but never shipped).
 * `sites: {api: {url, status: [200], timeout: 5, json_response: {"status": "ok"}, html_content_regex}}`.
 * Tag `salt/beacon/<id>/http_status/<site>`, data `{site, url, ok, status_code, reason}`
 * (`status_code` null when no response). With `onchangeonly` (default true) a site fires when it
 * starts failing and when it recovers (a healthy first probe is silent); otherwise on every failing probe.
 */
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconEvent, type BeaconInstance } from "../../plugin.js";

export interface SiteCheck {
  readonly name: string;
  readonly url: string;
  /** Accepted status codes. Default [200]. */
  readonly status: readonly number[];
  /** Seconds to wait for the response. Default 10. */
  readonly timeoutS: number;
  /** Dotted key -> expected value in the JSON body. */
  readonly json?: Readonly<Record<string, unknown>>;
  /** A regex the body must contain. */
  readonly html?: RegExp;
}
export interface HttpStatusConfig {
  readonly sites: readonly SiteCheck[];
  /** Default true. */
  readonly onchangeonly: boolean;
}

function parseSite(sites: Fields, name: string): SiteCheck {
  const s = sites.map(name);
  s.onlyKeys(["url", "status", "timeout", "json_response", "html_content_regex"]);
  const url = s.string("url");
  if (!/^https?:\/\//.test(url)) s.fail("url", "must be an http:// or https:// URL");
  const status = s.has("status") ? s.get("status") : [200];
  const codes = Array.isArray(status) ? status : [status];
  if (!codes.every((c) => Number.isInteger(c) && c >= 100 && c <= 599)) s.fail("status", "must be a list of HTTP status codes");
  const html = s.optString("html_content_regex");
  let regex: RegExp | undefined;
  try {
    regex = html === undefined ? undefined : new RegExp(html);
  } catch (err) {
    s.fail("html_content_regex", `is not a valid regex: ${(err as Error).message}`);
  }
  const json = s.has("json_response") ? Object.fromEntries(s.map("json_response").keys().map((k) => [k, s.map("json_response").get(k)])) : undefined;
  return { name, url, status: codes as number[], timeoutS: s.number("timeout", 10, { min: 0.1 }), ...(json ? { json } : {}), ...(regex ? { html: regex } : {}) };
}

function parse(f: Fields): HttpStatusConfig {
  const sites = f.requiredMap("sites");
  return { sites: sites.keys().map((n) => parseSite(sites, n)), onchangeonly: f.bool("onchangeonly", true) };
}

/** Probes one site: `undefined` when healthy, else why not. */
export async function probe(site: SiteCheck): Promise<{ code: number | null; reason?: string }> {
  let res: Response;
  try {
    res = await fetch(site.url, { signal: AbortSignal.timeout(site.timeoutS * 1000), redirect: "manual" });
  } catch (err) {
    const e = err as Error;
    return { code: null, reason: e.name === "TimeoutError" ? `no response within ${site.timeoutS} s` : String((e.cause as Error | undefined)?.message ?? e.message) };
  }
  const body = await res.text().catch(() => "");
  if (!site.status.includes(res.status)) return { code: res.status, reason: `status ${res.status} is not one of ${site.status.join(", ")}` };
  if (site.html && !site.html.test(body)) return { code: res.status, reason: `body does not match ${site.html.source}` };
  if (site.json) return { code: res.status, ...jsonMismatch(body, site.json) };
  return { code: res.status };
}

function jsonMismatch(body: string, want: Readonly<Record<string, unknown>>): { reason?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { reason: "body is not JSON" };
  }
  for (const [key, value] of Object.entries(want)) {
    const got = key.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), doc);
    if (JSON.stringify(got) !== JSON.stringify(value)) return { reason: `${key} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}` };
  }
  return {};
}

function create(config: HttpStatusConfig): BeaconInstance {
  const healthy = new Map<string, boolean>();
  const check = async (site: SiteCheck): Promise<BeaconEvent | undefined> => {
    const r = await probe(site);
    const ok = r.reason === undefined;
    const was = healthy.get(site.name);
    healthy.set(site.name, ok);
    const fire = config.onchangeonly ? (was === undefined ? !ok : was !== ok) : !ok;
    return fire ? { suffix: site.name, data: { site: site.name, url: site.url, ok, status_code: r.code, reason: r.reason ?? "" } } : undefined;
  };
  return {
    async poll() {
      return (await Promise.all(config.sites.map(check))).filter((e): e is BeaconEvent => e !== undefined);
    },
  };
}

export const httpStatusPlugin = definePlugin({ type: "http_status", options: ["sites", "onchangeonly"], parse, create });
