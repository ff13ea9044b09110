// What a volume's or image's own header says about other files (a qcow2 backing file or external data file), read without following either.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** What berth reads from the first bytes of a volume. */
export interface VolumeHeader {
  /** qcow2 when the file starts with the qcow2 magic; anything else is only ever opened as raw. */
  format: "qcow2" | "raw";
  /** The backing file the header names; null when none. */
  backing: string | null;
  /** The external data file the header names ("" when flagged but unnamed); null when none. */
  dataFile: string | null;
}

const QCOW_MAGIC = 0x514649fb;
const EXT_DATA_FILE = 0x44415441;
const INCOMPAT_DATA_FILE = 1n << 2n;
const HEADER_BYTES = 65536;

/** Parses a qcow2 header (docs/interop/qcow2.txt in QEMU); `readAt` reads bytes past the first block. */
export function parseVolumeHeader(
  head: Buffer,
  readAt: (offset: number, length: number) => Buffer,
): VolumeHeader {
  if (head.length < 72 || head.readUInt32BE(0) !== QCOW_MAGIC)
    return { format: "raw", backing: null, dataFile: null };
  const version = head.readUInt32BE(4);
  const backingOffset = Number(head.readBigUInt64BE(8));
  const backingSize = head.readUInt32BE(16);
  const backing =
    backingOffset === 0 ? null : readAt(backingOffset, Math.min(backingSize, 4096)).toString("latin1");
  let dataFile: string | null = null;
  // A v3 header too short to hold its feature bits is taken as naming a data file: never opened.
  if (version >= 3 && head.length < 104) return { format: "qcow2", backing, dataFile: "" };
  if (version >= 3) {
    const incompatible = head.readBigUInt64BE(72);
    const headerLength = head.readUInt32BE(100);
    let at = headerLength;
    // Header extensions: type, length, data padded to 8 bytes, until type 0.
    while (at + 8 <= head.length) {
      const type = head.readUInt32BE(at);
      const len = head.readUInt32BE(at + 4);
      if (type === 0) break;
      if (type === EXT_DATA_FILE) dataFile = head.subarray(at + 8, at + 8 + len).toString("latin1");
      at += 8 + Math.ceil(len / 8) * 8;
    }
    if ((incompatible & INCOMPAT_DATA_FILE) !== 0n && dataFile === null) dataFile = "";
  }
  return { format: "qcow2", backing, dataFile };
}

/**
 * Reads a regular file's header, never through a symbolic link: "missing" when there is no file (a
 * volume only libvirt's test driver holds), null when it is not a regular file.
 */
export function readVolumeHeader(path: string): VolumeHeader | "missing" | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    // Missing, or a symbolic link (ELOOP): not a volume file berth reads.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "missing";
    if (code === "ELOOP") return null;
    throw e;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const readAt = (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    };
    return parseVolumeHeader(readAt(0, HEADER_BYTES), readAt);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a volume berth records as `format`, whose header should name `backing` (or no backing file),
 * may not be opened: its header reaches a file berth did not put there (a guest could have written
 * it). Null when it may; a volume only libvirt's test driver holds ("missing") and raw ones pass.
 */
export function headerProblem(path: string, format: "qcow2" | "raw", backing: string | null): string | null {
  const h = readVolumeHeader(path);
  if (h === null) return `${path} is not a regular file of berth's pool`;
  if (h === "missing" || format === "raw") return null;
  if (h.format !== "qcow2") return `${path} is recorded as qcow2 but holds no qcow2 header`;
  if (h.dataFile !== null)
    return `${path}: its qcow2 header names an external data file ${h.dataFile}; a volume may not reach another file`;
  if (h.backing !== backing)
    return `${path}: its qcow2 header names ${h.backing ?? "no backing file"} as its backing file, not ${backing ?? "none"}; a volume may not reach another file`;
  return null;
}
