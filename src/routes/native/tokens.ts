// /v1/tokens: issue a token with HTTP basic auth, list and revoke the caller's own (routes exist while [auth] is on).
import { Elysia, t } from "elysia";
import { issueToken, listTokens, revokeToken } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { callerOf } from "../auth.ts";
import { ErrorSchema } from "./schemas.ts";

const tags = ["tokens"];

const TokenView = t.Object({
  id: t.String(),
  user: t.String(),
  created_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()], { description: "null: valid until revoked" }),
  last_used_at: t.Union([t.String(), t.Null()]),
});

const IssuedToken = t.Composite([
  TokenView,
  t.Object({ token: t.String({ description: "shown only now; berth keeps its SHA-256 alone" }) }),
]);

const errors = { 401: ErrorSchema, 404: ErrorSchema };

export function tokenRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/tokens" })
    .post("", (ctx) => ctx.status(201, issueToken(core, callerOf(ctx))), {
      response: { 201: IssuedToken, ...errors },
      detail: {
        summary: "Issue a token (HTTP basic auth; 201)",
        description:
          "Send it as X-AUTH-TOKEN: <token> or Authorization: Bearer <token>. It expires after [auth] token_lifetime_hours. 401 with WWW-Authenticate: Basic for a missing or wrong password; 404 auth_disabled when [auth] is off.",
        tags,
      },
    })
    .get("", (ctx) => listTokens(core, callerOf(ctx)), {
      response: { 200: t.Array(TokenView), ...errors },
      detail: {
        summary: "List the caller's tokens (token or HTTP basic auth)",
        description: "Never the tokens themselves. 401 without valid credentials; 404 auth_disabled.",
        tags,
      },
    })
    .delete(
      "/:id",
      (ctx) => {
        revokeToken(core, callerOf(ctx), ctx.params.id);
        return ctx.status(204, undefined);
      },
      {
        params: t.Object({ id: t.String({ maxLength: 64 }) }),
        response: { 204: t.Void(), ...errors },
        detail: {
          summary: "Revoke one of the caller's tokens (204)",
          description:
            "404 for a token of another user, exactly as for one that does not exist (admins may revoke any).",
          tags,
        },
      },
    );
}
