// Image bytes from a file on the host: checked (absolute, regular, outside berth's own dirs), then copied.
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, resolve, sep } from "node:path";
import { BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { poolDir, stagingDir } from "../paths.ts";
import { type ProgressReport, type Staged, stageStream } from "./staging.ts";

export interface HostFile {
  /** The path as given, for messages and the image's source. */
  path: string;
  /** Symlinks resolved: what is actually read. */
  real: string;
  size: number;
}

async function realOrResolved(dir: string): Promise<string> {
  try {
    return await realpath(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return resolve(dir);
  }
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** Refuses relative paths, ".." segments, non-regular files and anything inside berth's pool or staging. */
export async function checkHostPath(core: Core, path: string, label: string): Promise<HostFile> {
  if (!isAbsolute(path)) throw new BadRequest(`${label}: path ${JSON.stringify(path)} must be absolute`);
  if (path.split("/").includes("..")) {
    throw new BadRequest(`${label}: path ${JSON.stringify(path)} must not contain ".." segments`);
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : `cannot be read (${code})`;
    throw new BadRequest(`${label}: ${path} ${why}`, { cause });
  }
  const st = await stat(real);
  if (!st.isFile()) throw new BadRequest(`${label}: ${path} is not a regular file`);
  for (const [what, dir] of [
    ["storage pool", poolDir(core.config)],
    ["staging directory", stagingDir(core.config)],
  ] as const) {
    if (inside(real, await realOrResolved(dir))) {
      throw new BadRequest(`${label}: ${path} is inside berth's ${what}; import from outside it`);
    }
  }
  return { path, real, size: st.size };
}

/** Copies the host file into `file` (never moves it), with progress and cancellation. */
export function stagePath(
  host: HostFile,
  file: string,
  opts: { signal: AbortSignal; sha256?: string; label: string; report: ProgressReport },
): Promise<Staged> {
  return stageStream(Bun.file(host.real).stream(), file, {
    signal: opts.signal,
    total: host.size,
    sha256: opts.sha256,
    label: opts.label,
    onProgress: (done) => opts.report(done, host.size),
  });
}
