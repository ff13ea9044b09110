// iohyve's sizes ("10G", "512M"): parsed into bytes and written back in the largest unit that is exact.
import { BadRequest } from "../../errors.ts";

const UNITS = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 } as const;

/** Bytes of an iohyve size: digits and an optional K, M, G or T (binary units, as zfs and bhyve read them). */
export function parseIohyveSize(text: string, what: string): number {
  const m = /^([0-9]{1,15})([KMGTkmgt])?$/.exec(text);
  if (!m) throw new BadRequest(`${what} ${JSON.stringify(text)} is not a size like 10G or 512M`);
  const unit = (m[2]?.toUpperCase() ?? "") as keyof typeof UNITS | "";
  const bytes = Number(m[1]) * (unit === "" ? 1 : UNITS[unit]);
  if (bytes <= 0 || !Number.isSafeInteger(bytes))
    throw new BadRequest(`${what} ${JSON.stringify(text)} is out of range`);
  return bytes;
}

/** Whole GiB of an iohyve size: berth's disks are sized in GiB, so another size is refused rather than rounded. */
export function iohyveSizeGb(text: string, what: string): number {
  const bytes = parseIohyveSize(text, what);
  if (bytes % UNITS.G !== 0) throw new BadRequest(`${what} ${text} is not a whole number of gigabytes`);
  return bytes / UNITS.G;
}

/** MiB of an iohyve memory size (its `ram`). */
export function iohyveSizeMib(text: string, what: string): number {
  const bytes = parseIohyveSize(text, what);
  if (bytes % UNITS.M !== 0) throw new BadRequest(`${what} ${text} is not a whole number of megabytes`);
  return bytes / UNITS.M;
}

/** `bytes` in iohyve's form: the largest of T, G, M, K that divides it, else plain bytes. */
export function iohyveSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"] as const) {
    if (bytes > 0 && bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  }
  return String(bytes);
}
