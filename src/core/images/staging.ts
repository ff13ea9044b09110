// Streams bytes into a staging file: sparse where the data is zero, hashed on the way, cancellable.
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { stagingDir } from "../paths.ts";

/** Zero runs at least this long become holes, so a sparse raw image stays sparse. */
const BLOCK = 64 * 1024;
const ZERO = Buffer.alloc(BLOCK);
/** Progress is written to the database, so report at most this often. */
const PROGRESS_EVERY_MS = 250;

/** Bytes done so far, and the total when it is known. */
export type ProgressReport = (done: number, total?: number) => void;

export interface Staged {
  file: string;
  bytes: number;
  sha256: string;
}

export interface StageOptions {
  signal: AbortSignal;
  /** Expected length, for progress; undefined when unknown. */
  total?: number;
  /** Lowercase hex; a mismatch fails the stage. */
  sha256?: string;
  /** Called with bytes done (throttled, and once at the end). */
  onProgress?: (done: number) => void;
  /** Names the source in error messages. */
  label: string;
  /** Fails the stage when no bytes arrive for this long (a stalled server or client). */
  idleMs?: number;
  /** Turns a failed read of the source into the error to report (a write failure stays as it is). */
  readFailed?: (cause: unknown) => AppError;
}

/** `<staging>/img-<id><suffix>.part`, its directory created (root-only) if missing. */
export async function stagingFile(core: Core, id: string, suffix = ""): Promise<string> {
  const dir = stagingDir(core.config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `img-${id}${suffix}.part`);
}

export async function removeStaged(file: string): Promise<void> {
  await rm(file, { force: true });
}

function isZero(chunk: Uint8Array, from: number, to: number): boolean {
  const view = Buffer.from(chunk.buffer, chunk.byteOffset + from, to - from);
  return view.equals(to - from === BLOCK ? ZERO : ZERO.subarray(0, to - from));
}

/** What staging needs of a stream reader (Bun's and node:stream/web's types differ in extras). */
interface ChunkReader {
  read(): Promise<{ done: true; value?: Uint8Array } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** One read, abandoned when the signal aborts or nothing arrives within `idleMs`. */
async function readWithin(reader: ChunkReader, opts: StageOptions): ReturnType<ChunkReader["read"]> {
  let timer: Timer | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(opts.signal.reason);
    opts.signal.addEventListener("abort", onAbort, { once: true });
    if (opts.idleMs !== undefined) {
      const s = opts.idleMs / 1000;
      timer = setTimeout(
        () => reject(new AppError(504, "transfer_stalled", `${opts.label}: no data for ${s} s`)),
        opts.idleMs,
      );
    }
  });
  const read = reader.read().catch((cause: unknown) => {
    if (opts.signal.aborted) throw opts.signal.reason;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw (
      opts.readFailed?.(cause) ?? new AppError(502, "transfer_failed", `${opts.label}: ${message}`, { cause })
    );
  });
  try {
    return await Promise.race([read, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal.removeEventListener("abort", onAbort);
  }
}

export function checksumMismatch(label: string, want: string, got: string): AppError {
  return new AppError(400, "checksum_mismatch", `${label}: sha256 is ${got}, expected ${want}`);
}

/**
 * Writes `stream` to `file` (created mode 0600: libvirt hands a disk to QEMU's user when a VM starts), checking `signal` between
 * chunks. On any failure the file is removed before the error propagates.
 */
export async function stageStream(
  stream: ReadableStream<Uint8Array>,
  file: string,
  opts: StageOptions,
): Promise<Staged> {
  const hasher = new Bun.CryptoHasher("sha256");
  let done = 0;
  let lastReport = 0;
  const fh = await open(file, "w", 0o600);
  const reader: ChunkReader = stream.getReader();
  let ok = false;
  try {
    for (;;) {
      opts.signal.throwIfAborted();
      const { done: end, value } = await readWithin(reader, opts);
      if (end) break;
      hasher.update(value);
      let run = 0;
      for (let off = 0; off < value.length; off += BLOCK) {
        const to = Math.min(off + BLOCK, value.length);
        if (!isZero(value, off, to)) continue;
        if (off > run) await fh.write(value, run, off - run, done + run);
        run = to;
      }
      if (value.length > run) await fh.write(value, run, value.length - run, done + run);
      done += value.length;
      if (opts.onProgress && Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        opts.onProgress(done);
      }
    }
    opts.signal.throwIfAborted();
    if (opts.total !== undefined && done !== opts.total) {
      throw new AppError(
        502,
        "transfer_incomplete",
        `${opts.label}: got ${done} bytes, expected ${opts.total}`,
      );
    }
    // Trailing zeros were skipped: the length makes them a hole.
    await fh.truncate(done);
    await fh.sync();
    const sha256 = hasher.digest("hex");
    if (opts.sha256 !== undefined && sha256 !== opts.sha256)
      throw checksumMismatch(opts.label, opts.sha256, sha256);
    opts.onProgress?.(done);
    ok = true;
    return { file, bytes: done, sha256 };
  } catch (e) {
    // Stop the source (a download would keep its socket); an ended or errored one refuses, which is fine.
    await reader.cancel(e).catch((err) => log.debug("stream cancel refused", { error: String(err) }));
    throw e;
  } finally {
    reader.releaseLock();
    await fh.close();
    if (!ok) await removeStaged(file);
  }
}
