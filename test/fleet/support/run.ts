// Runs a command of the test topology (argv only) and fails with its stderr; the one place fleet tests spawn tools.
// One poll and one liveness check for every suite: an exited child not reaped yet counts as gone.
import { isAlive as alive, waitFor as until } from "../../integration/support/daemons.ts";

export { alive, until };

export function run(argv: string[], opts: { allowFail?: boolean } = {}): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !opts.allowFail) {
    throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  }
  return r.stdout.toString();
}

/** SIGTERM to each pid, SIGKILL to those still alive after `graceMs`; waits until all are gone. */
export async function stopPids(pids: number[], graceMs = 10_000): Promise<void> {
  for (const p of pids) if (alive(p)) process.kill(p, "SIGTERM");
  const gone = () => pids.every((p) => !alive(p));
  await until(gone, graceMs, "daemons to exit").catch(() => {
    for (const p of pids) if (alive(p)) process.kill(p, "SIGKILL");
  });
  await until(gone, 5000, "daemons to exit after SIGKILL");
}
