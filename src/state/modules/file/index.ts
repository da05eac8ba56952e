/** The `file` state module. */
import type { StateModule } from "../../types.js";
import { append, line, replace } from "./edit.js";
import { managed } from "./managed.js";
import { copy, recurse } from "./recurse.js";
import { absent, directory, existsState, missing, symlink, touch } from "./simple.js";

export const fileStates: StateModule = {
  name: "file",
  functions: { managed, directory, absent, touch, exists: existsState, missing, symlink, replace, append, line, recurse, copy },
};
