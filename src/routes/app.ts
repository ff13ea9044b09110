// Builds the HTTP application: the native API, docs, and the one error mapping.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { docsRoutes } from "./docs.ts";
import { errorMapping } from "./errors.ts";
import { metaRoutes } from "./native/meta.ts";
import { operationRoutes } from "./native/operations.ts";

export function createApp(core: Core) {
  // normalize: false makes unknown body fields a validation error instead of silently dropping them.
  return new Elysia({ normalize: false }).use(errorMapping()).use(docsRoutes()).use(metaRoutes(core));
}

export type App = ReturnType<typeof createApp>;
