// PUT /v1/images/{name}/upload: the request body streamed into the pool while the client waits.
import { statfs } from "node:fs/promises";
import { AppError, BadRequest, InsufficientStorage } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { PayloadTooLarge } from "../limits.ts";
import { poolDir } from "../paths.ts";
import { reserveImage, storeImage } from "./pipeline.ts";
import type { ImageView } from "./records.ts";
import { stageStream } from "./staging.ts";

/** A client that stops sending for this long has gone; the upload fails and cleans up. */
export const UPLOAD_IDLE_MS = 120_000;

export interface UploadRequest {
  name: string;
  kind: "disk" | "iso";
  sha256?: string;
  /** The Content-Length the client declared; undefined for a chunked body. */
  length?: number;
}

/** Bytes an unprivileged writer may still put on the filesystem holding `path`; Infinity if it is absent. */
async function freeBytes(path: string): Promise<number> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return Number.POSITIVE_INFINITY;
    throw e;
  }
}

/** Room for an upload: it is staged under the data directory, then moved (or copied) into the pool. */
export async function uploadRoom(core: Core): Promise<number> {
  const [pool, data] = await Promise.all([freeBytes(poolDir(core.config)), freeBytes(core.config.data_dir)]);
  return Math.min(pool, data);
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

function tooLarge(core: Core, what: string): PayloadTooLarge {
  const max = core.config.limits.max_upload_bytes;
  return new PayloadTooLarge(`${what} is larger than ${max} bytes (limits.max_upload_bytes)`, max);
}

function noRoom(label: string, bytes: number, room: number): InsufficientStorage {
  return new InsufficientStorage(
    `${label}: ${gib(bytes)} do not fit in the ${gib(room)} free in the storage pool`,
    { details: { bytes, free_bytes: room } },
  );
}

/**
 * Passes `body` through while it stays within the upload limit and the room there was at the start;
 * a chunked upload (no Content-Length) is cut off the moment it passes either, not when the disk is full.
 */
function bounded(
  core: Core,
  body: ReadableStream<Uint8Array>,
  label: string,
  room: number,
): ReadableStream<Uint8Array> {
  const max = core.config.limits.max_upload_bytes;
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(tooLarge(core, label));
        else if (seen > room) controller.error(noRoom(label, seen, room));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Streams `body` to staging (never whole in memory) and stores it. A declared length past
 * [limits] max_upload_bytes (413) or the free space (507) is refused before a byte is read.
 * `signal` is the request's: a client that disconnects aborts the upload, which leaves nothing behind.
 */
export async function uploadImage(
  core: Core,
  caller: Caller | null,
  req: UploadRequest,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Promise<ImageView> {
  requireAdmin(core, caller, "upload images");
  if (!body) throw new BadRequest("the upload has no body: send the image bytes as the request body");
  const label = `upload of ${req.name}`;
  if (req.length !== undefined && req.length > core.config.limits.max_upload_bytes) {
    throw tooLarge(core, label);
  }
  const room = await uploadRoom(core);
  if (req.length !== undefined && req.length > room) throw noRoom(label, req.length, room);
  const res = reserveImage(core, req.name, req.kind, "upload");
  const sha256 = req.sha256?.toLowerCase();
  return await storeImage(
    core,
    res,
    [
      {
        role: "main",
        label,
        stage: (file) =>
          stageStream(bounded(core, body, label, room), file, {
            signal,
            sha256,
            label,
            idleMs: UPLOAD_IDLE_MS,
            total: req.length,
            readFailed: (cause) =>
              cause instanceof AppError
                ? cause
                : new AppError(
                    400,
                    "upload_failed",
                    `${label}: the request body broke off: ${(cause as Error).message}`,
                    { cause },
                  ),
          }),
      },
    ],
    { signal },
  );
}
