// Builds the HTTP application: the native API, docs, and the one error mapping.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { docsRoutes } from "./docs.ts";
import { toErrorResponse } from "./errors.ts";
import { metaRoutes } from "./native/meta.ts";

export function createApp(core: Core) {
  // normalize: false makes unknown body fields a validation error instead of silently dropping them.
  return new Elysia({ normalize: false })
    .onError(({ code, error, set }) => {
      const { status, body } = toErrorResponse(code, error);
      set.status = status;
      return body;
    })
    .use(docsRoutes())
    .use(metaRoutes(core));
}

export type App = ReturnType<typeof createApp>;
