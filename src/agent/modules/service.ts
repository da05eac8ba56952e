/** `service.*`: start, stop, restart, reload, status, available, through the ServiceManager port. */
import type { ServiceManager } from "../../core/ports.js";
import { define } from "./args.js";
import type { ModuleFunctions } from "./types.js";

const OPS = [
  "start",
  "stop",
  "restart",
  "reload",
  "status",
  "available",
] as const satisfies readonly (keyof ServiceManager)[];

/** The `service` module. */
export const serviceModule: ModuleFunctions = Object.fromEntries(
  OPS.map((op) => [
    op,
    define(`service.${op}`, { params: ["name"] }, (a, ctx) => ctx.serviceManager[op](a.str("name"))),
  ]),
);
