// PVC's byte sizes: read as its manual allows (bytes, or a B/K/M/G/T/P suffix, 1024-based) and shown as PVC did ("4096M").
import { BadRequest } from "../../errors.ts";

const UNITS = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 } as const;
type Unit = keyof typeof UNITS;

/** Digits then one optional unit letter; at most 16 digits, so the product stays an exact integer below 2^63. */
const SIZE = /^([0-9]{1,16})([BKMGTPbkmgtp])?$/;

/**
 * The bytes a PVC size names: `1073741824` (bytes, as the manual allows), `4096M`, `2G` (PVC's
 * 1024-based units; a lowercase letter is read as its capital). Zero and anything else are refused.
 */
export function parsePvcSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) {
    throw new BadRequest(
      `Size "${text}" is not valid: give bytes or a number with one of the suffixes B, K, M, G, T, P (e.g. 4096M, 2G).`,
    );
  }
  const unit = (m[2] ?? "B").toUpperCase() as Unit;
  const bytes = Number(m[1]) * UNITS[unit];
  if (bytes <= 0) throw new BadRequest(`Size "${text}" is not valid: a volume needs at least one byte.`);
  if (!Number.isSafeInteger(bytes)) throw new BadRequest(`Size "${text}" is too large.`);
  return bytes;
}

/** PVC's format_bytes_tohuman: the smallest unit whose (rounded-up) count has at most four digits. */
export function pvcHumanBytes(bytes: number): string {
  let out = `${bytes}B`;
  for (const unit of ["P", "T", "G", "M", "K", "B"] as const) {
    const n = Math.ceil(bytes / UNITS[unit]);
    if (n <= 9999) out = `${n}${unit}`;
  }
  return out;
}
