// Size-limited tmpfs mounts for out-of-space tests, and filling one to the last byte.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
}

/** Mounts a tmpfs of `size` (e.g. "1m") on `dir`, traversable by QEMU. */
export function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  run(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0711`, "tmpfs", dir]);
}

export function resizeTmpfs(dir: string, size: string): void {
  run(["mount", "-o", `remount,size=${size}`, dir]);
}

/** Unmounts; a busy mount is detached lazily so a failed test never leaves it behind. */
export function unmount(dir: string): void {
  const r = Bun.spawnSync(["umount", dir], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === 0) return;
  const lazy = Bun.spawnSync(["umount", "-l", dir], { stdout: "pipe", stderr: "pipe" });
  if (lazy.exitCode !== 0 && !lazy.stderr.toString().includes("not mounted"))
    console.warn(`umount ${dir}: ${lazy.stderr.toString().trim()}`);
}

/** Writes `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
export function fillUp(file: string): number {
  const fd = openSync(file, "w");
  let written = 0;
  try {
    for (const chunk of [1 << 20, 1 << 16, 1 << 12, 512]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if ((e as { code?: string }).code !== "ENOSPC") throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
