// Running the compiled berth binary in CLI tests: built once per file, piped or inside a pseudo-terminal.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
export const binary = join(root, "dist/berth");
/** The working directory of every run: not the checkout, as an operator's shell would not be. */
export const dir = mkdtempSync(join(tmpdir(), "berth-cli-"));

/** Builds dist/berth (bun run build). */
export function buildBinary(): void {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
}

/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}

/** The environment of a run: no token, URL or config from the machine's environment unless given. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...process.env, ...extra };
  for (const k of ["BERTH_URL", "BERTH_TOKEN", "BERTH_CONFIG", "BERTH_LISTEN"])
    if (!(k in extra)) delete e[k];
  return e;
}

/** Runs the binary with stdout and stderr piped (neither is a terminal); never sync, as berth may run in this process. */
export async function runCli(args: string[], extra: Record<string, string> = {}, stdin = "") {
  const p = Bun.spawn([binary, ...args], {
    cwd: dir,
    env: cliEnv(extra),
    stdin: Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, out, err };
}

/** Runs the binary inside a pseudo-terminal (util-linux script), as a person at a terminal would. */
export async function runTty(args: string[], extra: Record<string, string> = {}) {
  const line = [binary, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const p = Bun.spawn(["script", "-qec", line, "/dev/null"], {
    cwd: dir,
    env: cliEnv(extra),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, out };
}
