// Stopping and starting libvirtd for outage tests, under systemd or by its pid file (CI machines have no systemd).
import { existsSync, readFileSync } from "node:fs";
import { run, SYSTEM_URI } from "./env.ts";

const systemd = existsSync("/run/systemd/system");

/** Where `libvirtd -d` (as root) records its pid. */
export const LIBVIRTD_PID_FILE = "/run/libvirtd.pid";

/** The process's command name and state letter from /proc, or null once it is gone (a zombie counts as gone). */
function procState(pid: number): { comm: string; state: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": comm may hold spaces and parentheses, so split at the last ")".
    const close = stat.lastIndexOf(")");
    const state = stat.slice(close + 2, close + 3);
    return state === "Z" ? null : { comm: stat.slice(stat.indexOf("(") + 1, close), state };
  } catch {
    return null; // no /proc entry: the process has exited
  }
}

/** Whether `pid` is a running process (an exited one that was not reaped yet is not). */
export function isAlive(pid: number): boolean {
  return procState(pid) !== null;
}

/** The live process `pidFile` names, when its command name is `comm`; null otherwise. */
export function pidFromFile(pidFile: string, comm: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return null;
  return procState(pid)?.comm === comm ? pid : null;
}

/**
 * SIGTERMs the process `pidFile` names (when it is a live `comm`) and waits until it has exited.
 * Only that process: other processes of the same name (another libvirt on the machine) are never touched.
 */
export function stopByPidFile(pidFile: string, comm: string, timeoutMs = 15_000): void {
  const pid = pidFromFile(pidFile, comm);
  if (pid === null) return;
  process.kill(pid, "SIGTERM");
  const deadline = performance.now() + timeoutMs;
  while (procState(pid) !== null) {
    if (performance.now() > deadline)
      throw new Error(`${comm} (pid ${pid}) did not exit within ${timeoutMs} ms`);
    Bun.sleepSync(50);
  }
}

export function stopLibvirtd(): void {
  if (systemd)
    run([
      "systemctl",
      "stop",
      "libvirtd.service",
      "libvirtd.socket",
      "libvirtd-ro.socket",
      "libvirtd-admin.socket",
    ]);
  else stopByPidFile(LIBVIRTD_PID_FILE, "libvirtd");
}

export async function startLibvirtd(): Promise<void> {
  if (systemd) run(["systemctl", "start", "libvirtd.service"]);
  else run(["libvirtd", "-d"]);
  for (let i = 0; i < 100; i++) {
    if (run(["virsh", "-c", SYSTEM_URI, "list", "--all", "--name"], 3000).ok) return;
    await Bun.sleep(100);
  }
  throw new Error("libvirtd did not come back within 10 s");
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await cond()) return performance.now() - t0;
    await Bun.sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
