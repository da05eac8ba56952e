/** The built-in beacon types, by name. Each type lives in its own folder with its parser and probe. */
import type { BeaconPlugin, BeaconRegistry } from "../plugin.js";
import { diskusagePlugin } from "./diskusage/index.js";
import { httpStatusPlugin } from "./http_status/index.js";
import { inotifyPlugin } from "./inotify/index.js";
import { journaldPlugin } from "./journald/index.js";
import { loadPlugin } from "./load/index.js";
import { logPlugin } from "./log/index.js";
import { memusagePlugin } from "./memusage/index.js";
import { networkInfoPlugin } from "./network_info/index.js";
import { psPlugin } from "./ps/index.js";
import { servicePlugin } from "./service/index.js";
import { statusPlugin } from "./status/index.js";
import { swapusagePlugin } from "./swapusage/index.js";

const ALL: readonly BeaconPlugin[] = [
  servicePlugin, inotifyPlugin, diskusagePlugin, loadPlugin, memusagePlugin, swapusagePlugin,
  psPlugin, statusPlugin, logPlugin, networkInfoPlugin, httpStatusPlugin, journaldPlugin,
];

/** Built-in beacon types by name. */
export const builtinBeacons: BeaconRegistry = new Map(ALL.map((p) => [p.type, p]));

/** A registry of the built-ins plus `extra` (extra wins on a name clash). */
export function beaconRegistry(extra: readonly BeaconPlugin[] = []): BeaconRegistry {
  return new Map([...ALL, ...extra].map((p) => [p.type, p]));
}
