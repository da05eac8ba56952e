/** The state compiler as the `state.*` table's port: render, compile, top file. */
import { compileHigh } from "./compile.js";
import type { StateCompiler } from "./exec.js";
import { renderSls } from "./render.js";
import { topMatches } from "./top.js";

export const stateCompiler: StateCompiler = { renderSls, compileHigh, topMatches };
