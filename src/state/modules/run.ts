/** Runs an argv through the agent's cmd.run_all (its runas/cwd rules apply); never a shell string. */
import type { StateContext } from "../types.js";

export interface Ran {
  readonly retcode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runArgv(
  ctx: StateContext,
  argv: readonly string[],
  opts: { cwd?: string; runas?: string } = {},
): Promise<Ran> {
  const kw: Record<string, unknown> = {
    python_shell: false,
    rstrip: true,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.runas ? { runas: opts.runas } : {}),
  };
  return (await ctx.exec("cmd.run_all", [[...argv]], kw)) as Ran;
}

/** Like runArgv, but a non-zero retcode throws with the command's stderr. */
export async function mustRun(
  ctx: StateContext,
  argv: readonly string[],
  opts: { cwd?: string; runas?: string } = {},
): Promise<string> {
  const r = await runArgv(ctx, argv, opts);
  if (r.retcode !== 0)
    throw new Error(`${argv.slice(0, 2).join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
