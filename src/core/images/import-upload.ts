// PUT /v1/images/{name}/upload: the request body streamed into the pool while the client waits.
import { AppError, BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { reserveImage, storeImage } from "./pipeline.ts";
import type { ImageView } from "./records.ts";
import { stageStream } from "./staging.ts";

/** A client that stops sending for this long has gone; the upload fails and cleans up. */
export const UPLOAD_IDLE_MS = 120_000;

export interface UploadRequest {
  name: string;
  kind: "disk" | "iso";
  sha256?: string;
}

/**
 * Streams `body` to staging (never whole in memory) and stores it. `signal` is the request's:
 * a client that disconnects aborts the upload, which then leaves nothing behind.
 */
export function uploadImage(
  core: Core,
  req: UploadRequest,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): Promise<ImageView> {
  if (!body) throw new BadRequest("the upload has no body: send the image bytes as the request body");
  const res = reserveImage(core, req.name, req.kind, "upload");
  const label = `upload of ${req.name}`;
  const sha256 = req.sha256?.toLowerCase();
  return storeImage(
    core,
    res,
    [
      {
        role: "main",
        label,
        stage: (file) =>
          stageStream(body, file, {
            signal,
            sha256,
            label,
            idleMs: UPLOAD_IDLE_MS,
            readFailed: (cause) =>
              new AppError(
                400,
                "upload_failed",
                `${label}: the request body broke off: ${(cause as Error).message}`,
                {
                  cause,
                },
              ),
          }),
      },
    ],
    { signal },
  );
}
