// Builds the HTTP application of one listener: its fronts from the registry, the auth guard, the one error mapping and its docs.
import { Elysia } from "elysia";
import { type ListenerPlan, mainListener } from "../config/fronts.ts";
import type { Core } from "../core/context.ts";
import { liveMetrics } from "../core/status/live-metrics.ts";
import { accessLog } from "./access-log.ts";
import { authGuard } from "./auth.ts";
import { bodyGuard } from "./body-guard.ts";
import { sameClient } from "./client-address.ts";
import { docsRoutes } from "./docs.ts";
import { type ErrorShaper, errorMapping } from "./errors.ts";
import { fleetForward } from "./fleet.ts";
import { fleetArrival } from "./fleet-arrival.ts";
import { authRules, frontAt, frontNamed } from "./fronts/registry.ts";

/** The app `listener` serves (src/config/fronts.ts plans them); the main listener's by default. */
export function createApp(core: Core, listener: ListenerPlan = mainListener(core.config)) {
  const shape: ErrorShaper = (path, status, body, unknownRoute) => {
    const front = frontAt(listener, path);
    return { status: front.errorStatus?.(status, body, unknownRoute) ?? status, body: front.errorBody(body) };
  };
  // normalize: false makes unknown body fields a validation error instead of silently dropping them.
  const self: { handle?: (r: Request) => Promise<Response> } = {};
  const app = new Elysia({ normalize: false })
    .use(mergeSlashes(self))
    .use(accessLog(listener, liveMetrics(core)))
    .use(errorMapping(shape))
    .use(fleetArrival(core))
    .use(authGuard(core, authRules(core.config, listener), shape))
    .use(fleetForward(core, listener))
    .use(bodyGuard(core.config.limits.max_body_bytes));
  // Every listener with HTTP fronts documents them (PVC's own listener included) at its /openapi.json and /docs.
  if (listener.fronts.length > 0) app.use(docsRoutes(core.config, listener, () => app));
  // Only a front the registry declares (and the config places here) is mounted: there is no other way in.
  for (const { front, bases } of listener.fronts) app.use(frontNamed(front).routes(core, bases));
  const socket = listener.socket ? frontNamed(listener.socket).socket?.(core) : undefined;
  if (socket) app.use(socket);
  self.handle = (r) => app.handle(r);
  // Every route's metric series exist at 0 from the start.
  liveMetrics(core).declareRoutes(app.routes);
  return app;
}

/**
 * First of all: a path with repeated slashes (clients that join URLs by hand send them, Kahu's
 * /v0/tenant/1//compute) is answered as the same path with single ones, as nginx merges them.
 */
function mergeSlashes(self: { handle?: (r: Request) => Promise<Response> }) {
  return new Elysia().onRequest(({ request, server }) => {
    const url = new URL(request.url);
    if (!url.pathname.includes("//") || !self.handle) return;
    url.pathname = url.pathname.replace(/\/{2,}/g, "/");
    const merged = new Request(url.href, request);
    sameClient(merged, request, server);
    return self.handle(merged);
  });
}

export type App = ReturnType<typeof createApp>;
