// Runs a command of the test topology (argv only) and fails with its stderr; the one place fleet tests spawn tools.
export function run(argv: string[], opts: { allowFail?: boolean } = {}): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !opts.allowFail) {
    throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  }
  return r.stdout.toString();
}

/** Polls `cond` every 100 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await cond()) return performance.now() - t0;
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // ESRCH: it has exited
  }
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
