// A VM's serial console log (written and rotated by virtlogd) and its tail, read backwards in chunks.
import { type FileHandle, open } from "node:fs/promises";
import { assertVmSecrets, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { consoleLogOf } from "./domain-xml.ts";
import { findVmRow } from "./records.ts";

export const CONSOLE_DEFAULT_LINES = 100;
export const CONSOLE_MAX_LINES = 10_000;

/** virtlogd keeps (1 + max_backups) × max_size: 8 MiB by default; a tail never reads more than this. */
const MAX_SCAN_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** Rotated files looked for after the live one (virtlogd's max_backups defaults to 3). */
const MAX_BACKUPS = 16;

export interface ConsoleTail {
  /** The live log file on the host; rotated ones are `<path>.0` (newest) to `<path>.N`. */
  path: string;
  /** The last lines, oldest first, without line endings. */
  lines: string[];
}

export async function consoleTail(
  core: Core,
  caller: Caller | null,
  vmName: string,
  lines: number,
): Promise<ConsoleTail> {
  assertVmSecrets(core, caller, vmName);
  const path = consoleLogOf(core, findVmRow(core, vmName).id);
  return { path, lines: await tailLines(path, lines) };
}

async function openIfPresent(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`cannot read console log ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The log and its rotations, newest first. virtlogd renames path → path.0 → path.1 …; a file seen
 * twice (rotated while we opened them) is read once.
 */
async function openRotated(path: string): Promise<FileHandle[]> {
  const handles: FileHandle[] = [];
  const inodes = new Set<number>();
  for (let i = -1; i < MAX_BACKUPS; i++) {
    const fh = await openIfPresent(i < 0 ? path : `${path}.${i}`);
    if (!fh) {
      if (i < 0) continue;
      break;
    }
    const { ino } = await fh.stat();
    if (inodes.has(ino)) {
      await fh.close();
      continue;
    }
    inodes.add(ino);
    handles.push(fh);
  }
  return handles;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * The last `n` lines of `path` and the files it was rotated into, reading backwards in chunks until
 * it has them (or `maxBytes`), so a large log is never read whole. A missing log has no lines.
 */
export async function tailLines(
  path: string,
  n: number,
  opts: { maxBytes?: number; chunkBytes?: number } = {},
): Promise<string[]> {
  const maxBytes = opts.maxBytes ?? MAX_SCAN_BYTES;
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  const handles = await openRotated(path);
  const chunks: Buffer[] = [];
  let newlines = 0;
  let scanned = 0;
  let whole = true;
  try {
    outer: for (const fh of handles) {
      let pos = (await fh.stat()).size;
      while (pos > 0) {
        // n + 1 newlines: the one before the first wanted line proves that line is complete.
        if (newlines > n || scanned >= maxBytes) {
          whole = false;
          break outer;
        }
        const len = Math.min(chunkBytes, pos, maxBytes - scanned);
        pos -= len;
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, pos);
        const got = buf.subarray(0, bytesRead);
        chunks.push(got);
        scanned += len;
        newlines += countNewlines(got);
      }
    }
  } finally {
    await Promise.all(handles.map((fh) => fh.close()));
  }
  const data = Buffer.concat(chunks.reverse());
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
    parts.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) parts.push(data.subarray(start));
  if (!whole && parts.length > 0) parts.shift(); // began mid-line
  const decoder = new TextDecoder();
  return parts.slice(-n).map((p) => decoder.decode(p).replace(/\r+$/, ""));
}
