// Thread CPU priority through libc: berth's background Workers give way to the HTTP thread on a busy host.
import { dlopen, FFIType } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  gettid: { args: [], returns: FFIType.i32 },
  setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
});

/** setpriority's PRIO_PROCESS: on Linux, with a thread id, it sets that one thread's nice value. */
const PRIO_PROCESS = 0;

/**
 * Sets the calling thread's nice value (`setpriority(PRIO_PROCESS, gettid(), nice)`); threads it starts
 * afterwards inherit it. Lowering needs no privilege; false when the kernel refused.
 */
export function setThreadNice(nice: number): boolean {
  return libc.symbols.setpriority(PRIO_PROCESS, libc.symbols.gettid(), nice) === 0;
}
