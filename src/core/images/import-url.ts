// Image bytes from an HTTP(S) URL: fetched through the address checks, streamed to staging with progress, checksum and cancellation.
import type { ImagesConfig } from "../../config/schema.ts";
import { AppError, BadRequest } from "../../errors.ts";
import { addressPolicy } from "../net/addresses.ts";
import { redactUrls } from "../net/redact.ts";
import { checkLiteralHost, FetchFailed, safeFetch } from "../net/safe-fetch.ts";
import { type ProgressReport, type Staged, stageStream } from "./staging.ts";

/** A download that sends nothing for this long has stalled; it fails instead of holding its operation. */
export const DOWNLOAD_IDLE_MS = 120_000;

/**
 * The URL, normalised (credentials kept: berth needs them to fetch). Only http and https; a host
 * that is an IP literal the policy refuses is refused here, before anything starts.
 */
export function checkUrl(url: string, label: string, images: ImagesConfig): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new BadRequest(`${label}: ${JSON.stringify(redactUrls(url))} is not a URL`, { cause });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new BadRequest(`${label}: only http and https URLs can be imported (got ${parsed.protocol})`);
  }
  checkLiteralHost(parsed, addressPolicy(images.allow_private_networks), label);
  return parsed.href;
}

/** Downloads `url` into `file`, reporting bytes done (and the total when the server says it). */
export async function stageUrl(
  url: string,
  file: string,
  images: ImagesConfig,
  opts: { signal: AbortSignal; sha256?: string; label: string; report: ProgressReport; maxBytes?: number },
): Promise<Staged> {
  const timeoutMin = images.download_timeout_min;
  const deadline = AbortSignal.timeout(timeoutMin * 60_000);
  const signal = AbortSignal.any([opts.signal, deadline]);
  const overdue = () =>
    new AppError(504, "download_timeout", `${opts.label}: took longer than ${timeoutMin} min`);
  try {
    const res = await safeFetch(url, {
      signal,
      policy: addressPolicy(images.allow_private_networks),
      label: opts.label,
      maxBytes: opts.maxBytes ?? images.max_download_gib * 1024 ** 3,
    });
    if (res.status < 200 || res.status > 299) {
      await res.body.cancel();
      throw new AppError(
        502,
        "download_failed",
        `${opts.label}: answered ${res.status} ${res.statusText}`.trim(),
      );
    }
    return await stageStream(res.body, file, {
      signal,
      total: res.length,
      sha256: opts.sha256,
      label: opts.label,
      idleMs: DOWNLOAD_IDLE_MS,
      onProgress: (done) => opts.report(done, res.length),
      // Size limits and the like keep their own error; a broken connection is a plain failure.
      readFailed: (cause) => (cause instanceof AppError ? cause : new FetchFailed(opts.label, { cause })),
    });
  } catch (e) {
    if (deadline.aborted && !opts.signal.aborted) throw overdue();
    throw e;
  }
}
