// Stopping and starting libvirtd for outage tests, under systemd or by hand (CI machines have no systemd).
import { existsSync } from "node:fs";
import { run, SYSTEM_URI } from "./env.ts";

const systemd = existsSync("/run/systemd/system");

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
  else run(["pkill", "-x", "libvirtd"]);
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
