// sd_notify through libsystemd: tells systemd (Type=notify) that berth is ready, alive or stopping.
import { dlopen, FFIType } from "bun:ffi";

type Notify = (state: string) => boolean;

function load(): Notify {
  if (!process.env.NOTIFY_SOCKET) return () => false;
  try {
    const lib = dlopen("libsystemd.so.0", {
      sd_notify: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    });
    // sd_notify(0, "READY=1"): the string is ours and only read during the call.
    return (state) => lib.symbols.sd_notify(0, Buffer.from(`${state}\0`)) > 0;
  } catch {
    // Not under systemd's notify protocol without libsystemd: nothing to tell.
    return () => false;
  }
}

/** Sends one sd_notify state line ("READY=1", "WATCHDOG=1", "STOPPING=1"); false when not under systemd. */
export const sdNotify: Notify = load();
