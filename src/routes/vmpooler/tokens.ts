// vmpooler's /token routes: issue with a password, list, look up by the token, revoke (while [auth] is on).
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  vmpoolerIssueToken,
  vmpoolerRevokeToken,
  vmpoolerTokenInfo,
  vmpoolerTokens,
} from "../../core/fronts/vmpooler.ts";
import { callerOf } from "../auth.ts";
import { IssuedTokenBody, OkBody, TokenInfoBody, TokensBody } from "./bodies.ts";
import { described } from "./schemas.ts";

const tags = ["vmpooler"];
const TokenParams = t.Object({ token: t.String({ maxLength: 256 }) });

export function vmpoolerTokenRoutes(core: Core, base: string) {
  return new Elysia({ prefix: `${base}/token` })
    .get("", (ctx) => vmpoolerTokens(core, callerOf(ctx)), {
      detail: {
        summary:
          "The caller's tokens by id, with when each was created and last used (berth keeps only hashes: an id is no token)",
        responses: { 200: TokensBody, ...described({ 401: "no valid credentials", 404: "auth is off" }) },
        tags,
      },
    })
    .post("", (ctx) => vmpoolerIssueToken(core, callerOf(ctx)), {
      parse: "none",
      detail: {
        summary: "Issue a token (HTTP basic auth); send it as X-AUTH-TOKEN",
        responses: { 200: IssuedTokenBody, ...described({ 401: "no valid password", 404: "auth is off" }) },
        tags,
      },
    })
    .get("/:token", (ctx) => vmpoolerTokenInfo(core, callerOf(ctx), ctx.params.token), {
      params: TokenParams,
      detail: {
        summary:
          "A token's user, times and the user's checked-out VMs: the token itself is the credential; a listed id needs its owner's password",
        responses: { 200: TokenInfoBody, ...described({ 404: "no such live token, or auth is off" }) },
        tags,
      },
    })
    .delete("/:token", (ctx) => vmpoolerRevokeToken(core, callerOf(ctx), ctx.params.token), {
      params: TokenParams,
      detail: {
        summary: "Revoke one of the caller's tokens, named by itself or its id",
        responses: {
          200: OkBody,
          ...described({ 401: "no valid credentials", 404: "no such token of the caller" }),
        },
        tags,
      },
    });
}
