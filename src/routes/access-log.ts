// The access line: one structured log line per request (method, path without its query, status, ms, user, front).
import { Elysia } from "elysia";
import { frontOn, type ListenerPlan } from "../config/fronts.ts";
import type { LiveMetrics } from "../core/status/live-metrics.ts";
import { log } from "../log.ts";
import { callerOf } from "./auth.ts";

const pending = new WeakMap<Request, { t0: number; listener: ListenerPlan; metrics: LiveMetrics | null }>();

/** The status a hook sees: the Response's when one was returned, else what `set` says (Elysia's default 200). */
function statusOf(response: unknown, set: { status?: number | string }): number {
  if (response instanceof Response) return response.status;
  return typeof set.status === "number" ? set.status : Number(set.status) || 200;
}

/** The front serving `request` (its listener and path), or null when no access line is pending for it. */
export function frontOfRequest(request: Request): string | null {
  const p = pending.get(request);
  return p ? frontOn(p.listener, new URL(request.url).pathname) : null;
}

/** Writes the access line of `request` once (a request answered before any route, by the auth guard, calls it itself). */
export function logAccess(
  request: Request,
  status: number,
  user: string | null,
  route: string | null = null,
): void {
  const p = pending.get(request);
  if (!p) return; // answered by another app's handle (merged slashes): logged there
  pending.delete(request);
  // Only the path: a query string may carry a token or a password.
  const path = new URL(request.url).pathname;
  const ms = performance.now() - p.t0;
  // By route template only: a raw path carries VM and user names, an unbounded set of series.
  p.metrics?.recordHttp(request.method, route, path, status, ms / 1000);
  log.info("access", {
    method: request.method,
    path,
    status,
    ms: Math.round(ms * 10) / 10,
    user,
    front: frontOn(p.listener, path),
  });
}

/** Global: records when each request came, and logs it (and counts it in `metrics`) once answered (errors included). */
export function accessLog(listener: ListenerPlan, metrics: LiveMetrics | null = null) {
  return new Elysia()
    .onRequest(({ request }) => {
      pending.set(request, { t0: performance.now(), listener, metrics });
    })
    .onAfterResponse({ as: "global" }, (ctx) => {
      const { request, set } = ctx;
      const response = (ctx as { responseValue?: unknown }).responseValue;
      const route = (ctx as { route?: unknown }).route;
      logAccess(
        request,
        statusOf(response, set),
        callerOf({ request })?.name ?? null,
        typeof route === "string" ? route : null,
      );
    });
}
