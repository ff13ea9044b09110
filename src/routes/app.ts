// Builds the HTTP application: every front of the registry, the docs, the auth guard and the one error mapping.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { authGuard } from "./auth.ts";
import { bodyGuard } from "./body-guard.ts";
import { docsRoutes } from "./docs.ts";
import { type ErrorShaper, errorMapping } from "./errors.ts";
import { authRules, frontAt, servedFronts } from "./fronts/registry.ts";

export function createApp(core: Core) {
  const fronts = servedFronts(core.config);
  const shape: ErrorShaper = (path, body) => frontAt(core.config, path).errorBody(body);
  // normalize: false makes unknown body fields a validation error instead of silently dropping them.
  const app = new Elysia({ normalize: false })
    .use(errorMapping(shape))
    .use(authGuard(core, authRules(core.config), shape))
    .use(bodyGuard(core.config.limits.max_body_bytes))
    .use(docsRoutes(fronts.flatMap((f) => f.tags.map((name) => ({ name, description: f.title })))));
  // Only a front the registry declares (and the config serves) is mounted: there is no other way in.
  for (const front of fronts) app.use(front.routes(core));
  return app;
}

export type App = ReturnType<typeof createApp>;
