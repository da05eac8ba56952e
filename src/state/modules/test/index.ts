/**
 * Salt's `test` state module (salt/states/test.py): states that report what they are told, for
 * trying requisites and the runner. `mod_watch` answers a watch or a listen.
 */
import { StateArgumentError } from "../../../core/errors.js";
import type { StateArgs, StateContext, StateModule, StateReturn } from "../../types.js";

const CHANGES = { testing: { old: "Unchanged", new: "Something pretended to change" } };

function comment(args: StateArgs, dflt: string): string {
  return typeof args.comment === "string" ? args.comment : dflt;
}

function fixed(result: boolean, changes: boolean, dflt: string, testComment?: string) {
  return (args: StateArgs, ctx: StateContext): Promise<StateReturn> => {
    const out: StateReturn = { result, changes: changes ? CHANGES : {}, comment: comment(args, dflt) };
    if (ctx.test && testComment !== undefined)
      return Promise.resolve({ ...out, result: changes ? null : out.result, comment: testComment });
    return Promise.resolve(out);
  };
}

/** configurable_test_state: `changes` and `result` True, False or "Random"; `warnings` a string or list. */
function configurable(args: StateArgs, ctx: StateContext): Promise<StateReturn> {
  const pick = (key: "changes" | "result"): boolean => {
    const v = args[key] ?? true;
    if (typeof v === "boolean") return v;
    if (String(v).toLowerCase() === "random") return Math.random() < 0.5;
    throw new StateArgumentError(
      "test.configurable_test_state",
      key,
      "must be either True, False, or 'Random'",
    );
  };
  const changes = pick("changes");
  const result = pick("result");
  const text = typeof args.comment === "string" ? args.comment : "";
  const w = args.warnings;
  if (w !== undefined && w !== null && typeof w !== "string" && !Array.isArray(w))
    throw new StateArgumentError(
      "test.configurable_test_state",
      "warnings",
      "must be a string or a list of strings",
    );
  const extra = w === undefined || w === null ? {} : { extra: { warnings: typeof w === "string" ? [w] : w } };
  if (ctx.test)
    return Promise.resolve({
      result: args.changes === false ? true : null,
      changes: changes ? CHANGES : {},
      comment: text || "This is a test",
      ...extra,
    });
  return Promise.resolve({ result, changes: changes ? CHANGES : {}, comment: text, ...extra });
}

function showNotification(args: StateArgs): Promise<StateReturn> {
  if (typeof args.text !== "string" || args.text === "")
    throw new StateArgumentError(
      "test.show_notification",
      "text",
      "is required (Missing required argument text.)",
    );
  return Promise.resolve({ result: true, changes: {}, comment: args.text });
}

/** mod_watch: "Watch statement fired." with the watched states that changed (`result`/`comment`/`changes` override). */
function modWatch(args: StateArgs): Promise<StateReturn> {
  const reqs = Array.isArray(args.__reqs__) ? (args.__reqs__ as { state: string; __id__: string }[]) : [];
  return Promise.resolve({
    result: typeof args.result === "boolean" ? args.result : true,
    comment: typeof args.comment === "string" ? args.comment : "Watch statement fired.",
    changes:
      args.changes !== null && typeof args.changes === "object"
        ? (args.changes as Record<string, unknown>)
        : { "Requisites with changes": reqs.map((r) => `${r.state}: ${r.__id__}`) },
  });
}

/** The `test` state module. */
export const testStates: StateModule = {
  name: "test",
  functions: {
    nop: () => Promise.resolve({ result: true, changes: {}, comment: "Success!" }),
    succeed_without_changes: fixed(true, false, "Success!"),
    succeed_with_changes: fixed(
      true,
      true,
      "Success!",
      "If we weren't testing, this would be successful with changes",
    ),
    fail_without_changes: fixed(false, false, "Failure!", "If we weren't testing, this would be a failure!"),
    fail_with_changes: fixed(
      false,
      true,
      "Failure!",
      "If we weren't testing, this would be failed with changes",
    ),
    configurable_test_state: configurable,
    show_notification: showNotification,
  },
  modWatch,
};
