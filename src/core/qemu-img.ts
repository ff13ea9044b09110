// Running qemu-img: argv only (no shell), bounded in time, its stderr in the error; a full disk is berth's 507.
import { AppError, asInsufficientStorage } from "../errors.ts";

/** Bound on qemu-img: it reads headers or writes metadata, so anything longer is a stuck filesystem or a hostile file. */
export const QEMU_IMG_TIMEOUT_MS = 60_000;

/** Runs `qemu-img <args>` and returns its stdout; a failure is a 500 (507 when the disk is full) with its stderr. */
export async function runQemuImg(args: string[]): Promise<string> {
  const proc = Bun.spawn(["qemu-img", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: QEMU_IMG_TIMEOUT_MS,
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    const failed = new AppError(500, "internal", `qemu-img ${args[0]} failed (exit ${code}): ${err.trim()}`);
    throw asInsufficientStorage(failed, `qemu-img ${args[0]}`) ?? failed;
  }
  return out;
}
