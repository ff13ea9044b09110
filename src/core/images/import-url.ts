// Image bytes from an HTTP(S) URL: streamed to staging with progress, checksum and cancellation.
import { AppError, BadRequest } from "../../errors.ts";
import { type ProgressReport, type Staged, stageStream } from "./staging.ts";

/** A download that sends nothing for this long has stalled; it fails instead of holding its operation. */
export const DOWNLOAD_IDLE_MS = 120_000;

export function checkUrl(url: string, label: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new BadRequest(`${label}: ${JSON.stringify(url)} is not a URL`, { cause });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new BadRequest(`${label}: only http and https URLs can be imported (got ${parsed.protocol})`);
  }
  return parsed.href;
}

/** Downloads `url` into `file`, reporting bytes done (and the total when the server says it). */
export async function stageUrl(
  url: string,
  file: string,
  opts: { signal: AbortSignal; sha256?: string; label: string; report: ProgressReport },
): Promise<Staged> {
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, redirect: "follow" });
  } catch (cause) {
    if (opts.signal.aborted) throw opts.signal.reason;
    throw new AppError(502, "download_failed", `GET ${url} failed: ${(cause as Error).message}`, { cause });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new AppError(502, "download_failed", `GET ${url} answered ${res.status} ${res.statusText}`.trim());
  }
  // With a content encoding, fetch decodes and Content-Length counts the encoded bytes.
  const length = res.headers.get("content-encoding") ? null : res.headers.get("content-length");
  const total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
  return stageStream(res.body, file, {
    signal: opts.signal,
    total,
    sha256: opts.sha256,
    label: opts.label,
    idleMs: DOWNLOAD_IDLE_MS,
    onProgress: (done) => opts.report(done, total),
    readFailed: (cause) =>
      new AppError(502, "download_failed", `GET ${url} failed: ${(cause as Error).message}`, { cause }),
  });
}
