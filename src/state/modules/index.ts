/** The built-in state modules, by name (`file`, `pkg`, ...). Each lives in its own folder. */
import type { StateModule } from "../types.js";
import { cmdStates } from "./cmd/index.js";
import { eventStates } from "./event/index.js";
import { fileStates } from "./file/index.js";
import { moduleStates } from "./module/index.js";
import { pkgStates } from "./pkg/index.js";
import { archiveStates } from "./archive/index.js";
import { gitStates } from "./git/index.js";
import { cronStates } from "./cron/index.js";
import { groupStates } from "./group/index.js";
import { userStates } from "./user/index.js";
import { serviceStates } from "./service/index.js";
import { testStates } from "./test/index.js";

/** Every built-in state module. */
export function builtinStateModules(): ReadonlyMap<string, StateModule> {
  const modules: StateModule[] = [
    // one line per module folder, e.g. fileStates,
    testStates,
    fileStates,
    serviceStates,
    cmdStates,
    moduleStates,
    pkgStates,
    userStates,
    groupStates,
    gitStates,
    archiveStates,
    cronStates,
    eventStates,
  ];
  return new Map(modules.map((m) => [m.name, m]));
}

export { checkApply } from "./check-apply.js";
export type { Check, CheckApplySpec } from "./check-apply.js";
