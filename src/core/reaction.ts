/**
 * A reaction: one function call that a reactor SLS asks for, normalised from either of Salt's two
 * schemas. The reactor renders SLS files into these; the dispatcher runs them.
 */

/** Where a reaction runs. `cmd.` in SLS files is an alias of `local`. */
export const ReactionClient = {
  Local: "local",
  Runner: "runner",
  Wheel: "wheel",
  Caller: "caller",
} as const;
export type ReactionClient = (typeof ReactionClient)[keyof typeof ReactionClient];

/** Target types of `local` reactions (Salt's `tgt_type`). */
export const TARGET_TYPES = ["glob", "pcre", "list", "grain", "compound"] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** One normalised reaction. */
export interface Reaction {
  /** The SLS id (the top-level key), e.g. `restart_nginx`. */
  readonly id: string;
  /** The SLS file it came from, as written in the map. */
  readonly file: string;
  readonly client: ReactionClient;
  /** The function without the client prefix, e.g. `service.restart`, `key.accept`, `state.orchestrate`. */
  readonly fun: string;
  /** Target of local reactions (absent for runner/wheel; the sender for caller). */
  readonly tgt?: string | readonly string[];
  readonly tgt_type?: TargetType;
  /** Positional arguments. */
  readonly arg: readonly unknown[];
  /** Keyword arguments (for runner and wheel, all of them). */
  readonly kwarg: Readonly<Record<string, unknown>>;
  /** Salt's `order:` if given. */
  readonly order?: number;
  /** Other keys passed through (e.g. `timeout`, `ret`, `batch`). */
  readonly extra: Readonly<Record<string, unknown>>;
}
