// Starts berth as a real process (`bun src/main.ts serve` or the built binary) on a config, and measures it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HttpClient, httpClient } from "./http.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export interface BerthProcess {
  pid: number;
  url: string;
  api: HttpClient;
  dataDir: string;
  /** ms from spawn until /healthz answered 200. */
  healthyMs: number;
  /** ms from spawn until a stderr line matched `readyLine` (null without one). */
  readyLineMs: number | null;
  /** Resident set size now, in MiB (VmRSS of the process). */
  rssMiB(): number;
  /** Highest resident set size so far, in MiB (VmHWM). */
  peakRssMiB(): number;
  stderr(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** berth.toml without listen and data_dir (they are added). */
  toml: string;
  /** Reuse a data directory (a restart); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Run this executable (dist/berth) instead of `bun src/main.ts`. */
  binary?: string;
  /** Also wait for a stderr line matching this (e.g. the first reconcile pass), bounded by timeoutMs. */
  readyLine?: RegExp;
  timeoutMs?: number;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
  const addr = srv.address();
  await new Promise<void>((ok) => srv.close(() => ok()));
  if (!addr || typeof addr === "string") throw new Error("no free port");
  return addr.port;
}

function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

export async function startBerthProcess(opts: StartOptions): Promise<BerthProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "berth-bench-"));
  const port = await freePort();
  const configPath = join(dataDir, "bench.toml");
  writeFileSync(configPath, `listen = "127.0.0.1:${port}"\ndata_dir = "${dataDir}"\n${opts.toml}`);
  const argv = opts.binary
    ? [opts.binary, "serve", "--config", configPath]
    : ["bun", join(ROOT, "src/main.ts"), "serve", "--config", configPath];
  const t0 = performance.now();
  const proc = Bun.spawn(argv, {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
  });
  let err = "";
  let readyLineMs: number | null = null;
  const decoder = new TextDecoder();
  const drained = (async () => {
    for await (const chunk of proc.stderr) {
      err += decoder.decode(chunk, { stream: true });
      if (readyLineMs === null && opts.readyLine?.test(err)) readyLineMs = performance.now() - t0;
      if (err.length > 4_000_000) err = err.slice(-1_000_000);
    }
  })();
  const url = `http://127.0.0.1:${port}`;
  const api = httpClient(url);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let healthyMs = -1;
  while (performance.now() - t0 < timeoutMs) {
    if (proc.exitCode !== null) throw new Error(`berth exited with ${proc.exitCode}: ${err.slice(-2000)}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) {
      healthyMs = performance.now() - t0;
      break;
    }
    await Bun.sleep(5);
  }
  if (healthyMs < 0) throw new Error(`berth not healthy within ${timeoutMs} ms: ${err.slice(-2000)}`);
  while (opts.readyLine && readyLineMs === null && performance.now() - t0 < timeoutMs) await Bun.sleep(5);
  if (opts.readyLine && readyLineMs === null)
    throw new Error(`no stderr line matching ${opts.readyLine} within ${timeoutMs} ms`);
  return {
    pid: proc.pid,
    url,
    api,
    dataDir,
    healthyMs,
    readyLineMs,
    rssMiB: () => procStatus(proc.pid, "VmRSS"),
    peakRssMiB: () => procStatus(proc.pid, "VmHWM"),
    stderr: () => err,
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      await proc.exited;
      await drained;
    },
  };
}
