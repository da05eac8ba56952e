/** The grains an agent reports: detected, its id, and agent.yaml's static grains over them. */
import { detectGrains } from "../agent/index.js";
import type { AgentConfig } from "../config/index.js";
import { errorMessage } from "../core/errors.js";
import type { Logger } from "../core/index.js";

/** Detected and static grains (what `grains.items` returns), offered to the key service and stored in `minions`. */
export async function detectedGrains(config: AgentConfig, log: Logger): Promise<Record<string, unknown>> {
  try {
    return { ...(await detectGrains()), id: config.id, ...config.grains };
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "grain detection failed; using the static grains");
    return { id: config.id, ...config.grains };
  }
}
