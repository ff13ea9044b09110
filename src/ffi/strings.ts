// Moving strings and out-parameters across the C boundary without leaking or dangling.
import { CString, type Pointer, read } from "bun:ffi";
import { lastError } from "./error.ts";
import { freeMem } from "./lib.ts";

/** A NUL-terminated UTF-8 copy of `s`; the caller keeps it referenced for the whole call. */
export function cstr(s: string): Buffer {
  if (s.includes("\0")) throw new TypeError("string passed to libvirt contains a NUL byte");
  return Buffer.from(`${s}\0`, "utf8");
}

/** `cstr` for optional arguments: libvirt reads NULL as "unset". */
export function cstrOrNull(s: string | undefined | null): Buffer | null {
  return s == null ? null : cstr(s);
}

/** Copies a string libvirt owns (e.g. virDomainGetName); the memory stays libvirt's. */
export function borrowString(p: Pointer | null): string {
  return p ? new CString(p).toString() : "";
}

/** Copies a `char*` the caller owns, then frees it with libc free. */
export function takeString(p: Pointer): string {
  try {
    return new CString(p).toString();
  } finally {
    freeMem(p);
  }
}

/** An 8-byte out-parameter cell (pointer, unsigned long or long long). */
export function outCell(): BigUint64Array {
  return new BigUint64Array(1);
}

/**
 * Reads a C array of `count` pointers that the caller owns, hands each to `wrap`
 * (which takes ownership of the element), then frees the array itself.
 */
export function takePointerArray<T>(arrayPtr: Pointer, count: number, wrap: (p: Pointer) => T): T[] {
  const out: T[] = [];
  try {
    for (let i = 0; i < count; i++) out.push(wrap(read.ptr(arrayPtr, i * 8) as Pointer));
  } finally {
    freeMem(arrayPtr);
  }
  return out;
}

/**
 * The virConnectListAll* / vir*ListAll* pattern: `call` fills an out-cell with an array the caller
 * owns and returns its length (or -1); each element is handed to `wrap`, then the array is freed.
 */
export function listAll<T>(call: (cell: BigUint64Array) => number, wrap: (p: Pointer) => T): T[] {
  const cell = outCell();
  const n = call(cell);
  if (n < 0) throw lastError();
  if (cell[0] === 0n) return [];
  return takePointerArray(Number(cell[0]) as Pointer, n, wrap);
}
