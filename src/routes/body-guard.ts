// Refuses bodies no berth schema accepts before they cost much: too large (before reading), bare strings, deep nesting.
import { Elysia } from "elysia";
import { PayloadTooLarge } from "../core/limits.ts";
import { AppError, BadRequest } from "../errors.ts";

/** Deeper than every body schema berth has; the validator recurses once per level and a deep body overflows it. */
export const MAX_BODY_DEPTH = 32;

/** Whether `value` nests arrays or objects more than `max` levels deep; iterative, so any depth is safe to check. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

const tooLarge = (limit: number) =>
  new PayloadTooLarge(`the request body is larger than ${limit} bytes (limits.max_body_bytes)`, limit);

/**
 * The body of `request`, at most `limit` bytes: refused by its Content-Length before a byte is read,
 * and, when it comes chunked, as soon as it passes the limit (the rest is never read).
 */
export async function readBounded(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  if (declared !== null) {
    // Framed by its Content-Length (at most the limit): read at once, without a stream reader per request.
    const whole = new Uint8Array(await Request.prototype.arrayBuffer.call(request));
    if (whole.byteLength > limit) throw tooLarge(limit);
    return whole;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Requests whose body passed the limit while a parser read it; an optional-body parser swallows the error. */
const overLimit = new WeakSet<Request>();

/**
 * Makes every body-reading method of `request` (those Elysia's parsers and berth's own call) read at
 * most `limit` bytes. A route that streams `request.body` itself (an image upload) applies its own bound.
 */
function boundBody(request: Request, limit: number): void {
  let bytes: Promise<Uint8Array> | null = null;
  const read = (): Promise<Uint8Array> => {
    bytes ??= readBounded(request, limit).catch((e: unknown) => {
      if (e instanceof PayloadTooLarge) overLimit.add(request);
      throw e;
    });
    return bytes;
  };
  const type = request.headers.get("content-type") ?? "";
  const text = async () => new TextDecoder().decode(await read());
  const own = (value: unknown) => ({ value, configurable: true });
  Object.defineProperties(request, {
    bytes: own(read),
    arrayBuffer: own(async () => (await read()).slice().buffer),
    text: own(text),
    json: own(async () => JSON.parse(await text())),
    blob: own(async () => new Blob([await read()], { type })),
    formData: own(async () => new Response(await read(), { headers: { "content-type": type } }).formData()),
  });
}

/**
 * Global, on every route of every front. Before anything reads a body, its reading methods are bounded
 * by `maxBytes` ([limits] max_body_bytes: 413 `payload_too_large` beyond). After it is parsed and before
 * it is validated: every berth body is a JSON object (uploads read the raw stream); a string body
 * (text/plain, or a JSON string) would be spread by Elysia into an object with one key per character
 * before validation: seconds of CPU per MB.
 */
export function bodyGuard(maxBytes: number) {
  return new Elysia({ name: "berth-body-guard", seed: maxBytes })
    .onRequest(({ request }) => {
      if (request.body) boundBody(request, maxBytes);
    })
    .onTransform({ as: "global" }, ({ body, request }) => {
      if (overLimit.has(request)) throw tooLarge(maxBytes);
      if (typeof body === "string" && body !== "") {
        throw new AppError(
          415,
          "unsupported_media_type",
          "the request body must be a JSON object (application/json)",
        );
      }
      if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
        throw new BadRequest(`request body is nested more than ${MAX_BODY_DEPTH} levels deep`);
      }
    });
}
