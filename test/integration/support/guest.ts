// The tiny real test guest (test/fixtures/guest): built once from Debian packages, and its console markers.
import { existsSync, readFileSync } from "node:fs";

const dir = new URL("../../fixtures/guest/", import.meta.url).pathname;

export const GUEST = {
  kernel: `${dir}cache/vmlinuz`,
  initrd: `${dir}cache/initramfs.img`,
  cmdline: "console=ttyS0",
};

/** Runs the cached fixture build (a no-op when nothing changed). */
export function buildGuest(): void {
  const r = Bun.spawnSync(["bash", `${dir}build.sh`], { stdout: "pipe", stderr: "pipe", timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`guest build failed: ${r.stderr.toString()}${r.stdout.toString()}`);
  if (!existsSync(GUEST.kernel) || !existsSync(GUEST.initrd))
    throw new Error("guest build produced no kernel/initrd");
}

/** Lines the guest's init printed, without the marker ("block sda 131072", "ip eth0 10.0.0.5"). */
export function consoleReports(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .map((l) => /BERTH-GUEST: (.*?)\r?$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}
