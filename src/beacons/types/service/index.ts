/**
 * `service`: whether services run, through the host's ServiceManager.
 * Tag `salt/beacon/<id>/service/<svc>`, data `{service_name, <svc>: {running, uncleanshutdown?}}`.
 * Fires every interval, or with `onchangeonly` only on a change (`emitatstartup` for the first
 * status, `delay` seconds a change must last before it fires), as Salt does.
 */
import { existsSync } from "node:fs";
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconEvent, type BeaconInstance, type BeaconDeps } from "../../plugin.js";

/** Options of one watched service. */
export interface ServiceWatch {
  readonly name: string;
  /** Fire only when `running` changes. Default false. */
  readonly onchangeonly: boolean;
  /** With onchangeonly: fire the first status seen. Default true. */
  readonly emitatstartup: boolean;
  /** Seconds a changed status must last before it fires (with onchangeonly). Default 0. */
  readonly delay: number;
  /** A file whose presence, when the service is down, means it did not shut down cleanly. */
  readonly uncleanshutdown?: string;
}

export interface ServiceConfig {
  readonly services: readonly ServiceWatch[];
}

function parse(f: Fields): ServiceConfig {
  const services = f.requiredMap("services");
  return {
    services: services.keys().map((name) => {
      const s = services.map(name);
      s.onlyKeys(["onchangeonly", "emitatstartup", "delay", "uncleanshutdown"]);
      const unclean = s.optString("uncleanshutdown");
      return {
        name,
        onchangeonly: s.bool("onchangeonly", false),
        emitatstartup: s.bool("emitatstartup", true),
        delay: s.number("delay", 0, { min: 0 }),
        ...(unclean !== undefined ? { uncleanshutdown: unclean } : {}),
      };
    }),
  };
}

interface Last {
  running: boolean;
  since?: number;
}

function create(config: ServiceConfig, deps: BeaconDeps): BeaconInstance {
  const sm = deps.serviceManager;
  const last = new Map<string, Last>();
  const check = async (w: ServiceWatch): Promise<BeaconEvent | undefined> => {
    if (!sm) throw new Error("the service beacon needs a service manager");
    const running = await sm.status(w.name);
    const status: Record<string, unknown> = { running };
    if (w.uncleanshutdown !== undefined && !running) status["uncleanshutdown"] = existsSync(w.uncleanshutdown);
    const event = { suffix: w.name, data: { service_name: w.name, [w.name]: status } };
    return !w.onchangeonly || edge(w, running, deps.now().getTime()) ? event : undefined;
  };
  const edge = (w: ServiceWatch, running: boolean, now: number): boolean => {
    const prev = last.get(w.name);
    if (!prev || prev.running !== running) {
      last.set(w.name, w.delay > 0 ? { running, since: now } : { running });
      if (w.delay > 0) return false;
      return prev !== undefined || w.emitatstartup;
    }
    if (prev.since !== undefined && now - prev.since >= w.delay * 1000) {
      delete prev.since;
      return true;
    }
    return false;
  };
  return {
    async poll() {
      const out = await Promise.all(config.services.map(check));
      return out.filter((e): e is BeaconEvent => e !== undefined);
    },
  };
}

export const servicePlugin = definePlugin({ type: "service", options: ["services"], parse, create });
