// LibvirtError: libvirt's thread-local last error, copied right after the failing call.
import { CString, type Pointer, read } from "bun:ffi";
import { sym } from "./lib.ts";

/** virErrorNumber values berth branches on (libvirt's include/libvirt/virterror.h). */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  XML_DETAIL: 35,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  NO_DOMAIN_METADATA: 80,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  STORAGE_VOL_EXIST: 90,
  AGENT_UNSYNCED: 97,
} as const;

export class LibvirtError extends Error {
  override name = "LibvirtError";
  constructor(
    readonly libvirtCode: number,
    readonly domain: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Copies virGetLastError (code at offset 0, domain at 4, message pointer at 8) into a
 * LibvirtError. Call it on the very next line after a failing call, on the same thread:
 * the error is thread-local and any later libvirt call overwrites it.
 */
export function lastError(fallback = "libvirt call failed"): LibvirtError {
  const e = sym.virGetLastError() as Pointer | null; // owned by libvirt (thread-local)
  if (!e) return new LibvirtError(0, 0, fallback);
  const code = read.i32(e, 0);
  const domain = read.i32(e, 4);
  const msgPtr = read.ptr(e, 8) as Pointer | null; // owned by the error struct
  const message = msgPtr ? new CString(msgPtr).toString() : fallback;
  sym.virResetLastError();
  return new LibvirtError(code, domain, message);
}

/** Throws the last error when a C call returned -1. */
export function check(rc: number): number {
  if (rc < 0) throw lastError();
  return rc;
}
