// Image bytes from a file on the host: only inside [images] import_dirs, opened once, copied from that descriptor.
import { constants } from "node:fs";
import { type FileHandle, lstat, open, readlink, realpath } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { AppError, BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { poolDir, stagingDir } from "../paths.ts";
import { type ProgressReport, type Staged, stageStream } from "./staging.ts";

/** A local disk that answers nothing for this long is stuck (a hung network filesystem). */
export const READ_IDLE_MS = 60_000;
const CHUNK = 1024 * 1024;

export interface HostFile {
  /** The path as given, for messages and the image's source. */
  path: string;
  /** Symlinks resolved: what is opened. */
  real: string;
  /** The resolved directories the file must stay inside (checked again on the open descriptor). */
  roots: string[];
  /** berth's own directories, resolved: never a source, whatever the import directories say. */
  own: [string, string][];
}

function notAllowed(message: string): AppError {
  return new AppError(403, "path_not_allowed", message);
}

/** Path components of an absolute, normalised path ("/a/b" -> ["a", "b"]). */
function parts(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}

/** True when `path` is `dir` or below it, compared component by component (never as string prefixes). */
export function isInside(path: string, dir: string): boolean {
  const p = parts(path);
  const d = parts(dir);
  return d.length <= p.length && d.every((c, i) => p[i] === c);
}

async function realOr(dir: string): Promise<string> {
  try {
    return await realpath(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return resolve(dir);
  }
}

/** `[images] import_dirs`, or the directories berth itself trusts for its own imports (the demo guest). */
function importDirs(core: Core, trusted: readonly string[] | undefined): readonly string[] {
  const dirs = trusted ?? core.config.images.import_dirs;
  if (dirs.length === 0) {
    throw notAllowed(
      "importing from host paths is off: [images] import_dirs names no directory (upload the image or import it from a URL)",
    );
  }
  return dirs;
}

/** berth's own files are never an image source: the pool, staging, and (from config) the whole data directory. */
async function ownDirs(core: Core, trusted: boolean): Promise<[string, string][]> {
  const dirs: [string, string][] = [
    ["storage pool", poolDir(core.config)],
    ["staging directory", stagingDir(core.config)],
  ];
  // The demo guest lives under the data directory; berth's own import of it is the exception.
  if (!trusted) dirs.push(["data directory", core.config.data_dir]);
  return Promise.all(dirs.map(async ([what, dir]) => [what, await realOr(dir)] as [string, string]));
}

function checkNotOwn(real: string, own: [string, string][], label: string, path: string): void {
  for (const [what, dir] of own) {
    if (isInside(real, dir)) {
      throw notAllowed(`${label}: ${path} is inside berth's ${what}; import from outside it`);
    }
  }
}

/**
 * The request-time checks: absolute, no "..", inside an import directory both as written and with
 * symlinks resolved, outside berth's own directories, and a regular file. A path outside the import
 * directories is refused before it is looked at, so the answer never tells whether such a file exists.
 */
export async function checkHostPath(
  core: Core,
  path: string,
  label: string,
  trusted?: readonly string[],
): Promise<HostFile> {
  const dirs = importDirs(core, trusted);
  if (!isAbsolute(path)) throw new BadRequest(`${label}: path ${JSON.stringify(path)} must be absolute`);
  if (path.split("/").includes("..")) {
    throw new BadRequest(`${label}: path ${JSON.stringify(path)} must not contain ".." segments`);
  }
  const outside = () => notAllowed(`${label}: ${path} is not inside [images] import_dirs`);
  // As written, against the dirs as written (an import dir may itself be a symlink).
  if (!dirs.some((d) => isInside(resolve(path), resolve(d)))) throw outside();
  let real: string;
  try {
    real = await realpath(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : `cannot be read (${code})`;
    throw new BadRequest(`${label}: ${path} ${why}`, { cause });
  }
  const roots = await Promise.all(dirs.map(realOr));
  if (!roots.some((r) => isInside(real, r))) throw outside();
  const own = await ownDirs(core, trusted !== undefined);
  checkNotOwn(real, own, label, path);
  if (!(await lstat(real)).isFile()) throw new BadRequest(`${label}: ${path} is not a regular file`);
  return { path, real, roots, own };
}

/**
 * Opens the file once: O_NOFOLLOW (a symlink swapped in since the check is refused), O_NONBLOCK (a
 * FIFO swapped in cannot block the open), then judges the descriptor itself: a regular file, and
 * still inside the import directories (its path read back from /proc/self/fd).
 */
async function openChecked(host: HostFile, label: string): Promise<{ fh: FileHandle; size: number }> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  let fh: FileHandle;
  try {
    fh = await open(host.real, flags);
  } catch (cause) {
    throw new BadRequest(`${label}: ${host.path} changed since it was checked; try again`, { cause });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BadRequest(`${label}: ${host.path} is not a regular file`);
    const opened = await readlink(`/proc/self/fd/${fh.fd}`);
    if (!host.roots.some((r) => isInside(opened, r))) {
      throw notAllowed(`${label}: ${host.path} is not inside [images] import_dirs`);
    }
    checkNotOwn(opened, host.own, label, host.path);
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The descriptor's bytes as a stream, read from explicit offsets; closes the file when done or cancelled. */
function streamOf(fh: FileHandle): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const buf = new Uint8Array(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
      if (bytesRead === 0) {
        await fh.close();
        return c.close();
      }
      at += bytesRead;
      c.enqueue(buf.subarray(0, bytesRead));
    },
    async cancel() {
      await fh.close();
    },
  });
}

/** Copies the host file into `file` (never moves it), with progress, cancellation and an idle timeout. */
export async function stagePath(
  host: HostFile,
  file: string,
  opts: { signal: AbortSignal; sha256?: string; label: string; report: ProgressReport },
): Promise<Staged> {
  const { fh, size } = await openChecked(host, opts.label);
  return stageStream(streamOf(fh), file, {
    signal: opts.signal,
    total: size,
    sha256: opts.sha256,
    label: opts.label,
    idleMs: READ_IDLE_MS,
    onProgress: (done) => opts.report(done, size),
  });
}
