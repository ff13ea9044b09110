// Requests another host of the fleet forwards here: verified (fleet signature, known user) before the auth guard runs.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { FLEET_HEADERS, type Forwarded, verifyForwarded } from "../core/fleet/forward.ts";
import { PayloadTooLarge } from "../core/limits.ts";
import { AppError } from "../errors.ts";
import { toErrorResponse } from "./errors.ts";

const forwarded = new WeakMap<Request, Forwarded>();

/** What the host that forwarded `request` here said (verified), or null for a request from outside the fleet. */
export function forwardedOf(request: Request): Forwarded | null {
  return forwarded.get(request) ?? null;
}

const hasFleetHeaders = (h: Headers) => Object.values(FLEET_HEADERS).some((k) => h.get(k) !== null);

/** The request's body bytes (from a copy: the route reads it again), at most `max`. */
export async function bodyOf(request: Request, max: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const tooLarge = () =>
    new PayloadTooLarge(`the request body is larger than ${max} bytes (limits.max_body_bytes)`, max);
  if (Number(request.headers.get("content-length") ?? 0) > max) throw tooLarge();
  const bytes = new Uint8Array(await request.clone().arrayBuffer());
  if (bytes.length > max) throw tooLarge();
  return bytes;
}

/** An AppError as the native front's error answer (these hooks run before any route's mapping). */
export function answer(e: unknown): Response {
  if (!(e instanceof AppError)) throw e;
  const { status, body } = toErrorResponse(e.errorCode, e);
  return Response.json(body, { status });
}

/** Mounted before the auth guard: a request with fleet headers is verified here (401 if it fails), or never served. */
export function fleetArrival(core: Core) {
  if (!core.fleet) return new Elysia();
  const seen = new Map<string, number>();
  return new Elysia().onRequest(async ({ request }) => {
    if (!hasFleetHeaders(request.headers)) return;
    try {
      const body = await bodyOf(request, core.config.limits.max_body_bytes);
      const fwd = verifyForwarded(core, request, body, seen);
      if (fwd) forwarded.set(request, fwd);
    } catch (e) {
      return answer(e);
    }
  });
}
