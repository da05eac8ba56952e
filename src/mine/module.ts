/**
 * The agent's `mine` execution module (Salt names): `mine.update [clear=True]`,
 * `mine.send NAME [mine_function=FUN] [ARGS...] [KWARGS...]`, `mine.get TGT FUN [tgt_type=glob]`
 * (FUN may be a comma-separated list or a list), `mine.delete FUN`, `mine.flush`.
 */
import { ModuleArgumentError, TARGET_TYPES, type TargetType } from "../core/index.js";
import type { MinePublisher } from "./publisher.js";
import type { MineGetOptions } from "./select.js";

/** Where the module's mine.get reads: a MineReader (buckets readable), or a MineClient (through the service). */
export interface MineGetter {
  get(tgt: string | readonly string[], fun: string | readonly string[], tgtType?: TargetType, opts?: MineGetOptions): Promise<Record<string, unknown>>;
}

/** One module function, called with Salt's (args, kwargs). */
export type MineModuleFunction = (args: unknown[], kwargs: Record<string, unknown>) => Promise<unknown>;

/** The `mine` module's functions by name. */
export type MineModule = Readonly<Record<"update" | "send" | "get" | "delete" | "flush", MineModuleFunction>>;

/** Builds `mine.*` over this agent's publisher and a reader or client (agent-side gets name the agent as requester). */
export function createMineModule(publisher: MinePublisher, reader: MineGetter): MineModule {
  return {
    update: async (_args, kwargs) => publisher.update({ clear: kwargs["clear"] === true }),
    async send(args, kwargs) {
      const [name, ...rest] = args;
      if (typeof name !== "string" || name === "") throw new ModuleArgumentError("mine.send", "the first argument must be the name to store under");
      const { mine_function, ...kw } = kwargs;
      if (mine_function !== undefined && typeof mine_function !== "string") throw new ModuleArgumentError("mine.send", "mine_function must be a string");
      await publisher.send(name, mine_function, rest, kw);
      return true;
    },
    async get(args, kwargs) {
      const tgt = args[0] ?? kwargs["tgt"];
      const fun = args[1] ?? kwargs["fun"];
      const tgtType = args[2] ?? kwargs["tgt_type"] ?? "glob";
      if (typeof tgt !== "string" && !isStringList(tgt)) throw new ModuleArgumentError("mine.get", "tgt must be a string or a list of strings");
      if (typeof fun !== "string" && !isStringList(fun)) throw new ModuleArgumentError("mine.get", "fun must be a string or a list of strings");
      if (!(TARGET_TYPES as readonly unknown[]).includes(tgtType)) {
        throw new ModuleArgumentError("mine.get", `tgt_type must be one of ${TARGET_TYPES.join(", ")}`);
      }
      const funs = typeof fun === "string" && fun.includes(",") ? fun.split(",").map((s) => s.trim()) : fun;
      return reader.get(tgt, funs, tgtType as TargetType, { requester: publisher.agentId });
    },
    async delete(args) {
      const name = args[0];
      if (typeof name !== "string" || name === "") throw new ModuleArgumentError("mine.delete", "the first argument must be the function name");
      await publisher.delete(name);
      return true;
    },
    flush: async () => {
      await publisher.flush();
      return true;
    },
  };
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}
