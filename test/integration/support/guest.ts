// The tiny real test guest: the demo pool's guest (berth demo-image), built once into test/fixtures/guest/cache.
import { existsSync, readFileSync } from "node:fs";

const dir = new URL("../../fixtures/guest/", import.meta.url).pathname;
const main = new URL("../../../src/main.ts", import.meta.url).pathname;

export const GUEST = {
  kernel: `${dir}cache/vmlinuz`,
  initrd: `${dir}cache/initramfs.img`,
  cmdline: "console=ttyS0",
};

/** Runs berth's own guest build into the fixture cache (a no-op when nothing changed). */
export function buildGuest(): void {
  const r = Bun.spawnSync([process.execPath, main, "demo-image", "--out", `${dir}cache`], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
  });
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
