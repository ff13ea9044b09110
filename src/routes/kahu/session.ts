// Kahu's cookie login (2017): POST /v0/auth/login with role (a berth user) and password sets KAHU_SESSION_TOKEN to a berth token; logout revokes it.
import { Elysia, t } from "elysia";
import {
  AuthDisabled,
  authenticatePassword,
  issueToken,
  revokeToken,
  Unauthorized,
} from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { callerOf } from "../auth.ts";
import { clientAddress } from "../client-address.ts";
import { formBody, LoginBody, LogoutBody } from "./bodies.ts";
import { kahuForm } from "./form.ts";

const tags = ["kahu"];
export const SESSION_COOKIE = "KAHU_SESSION_TOKEN";

/** The cookie holding a session's token: scripts cannot read it, and other sites cannot send it. */
function sessionCookie(token: string, maxAgeS: number | null): string {
  return new Bun.Cookie(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    ...(maxAgeS !== null ? { maxAge: maxAgeS } : {}),
  }).serialize();
}

export function kahuSessionRoutes(core: Core, api: string) {
  return new Elysia()
    .post(
      "/auth/login",
      async (ctx) => {
        await using form = await kahuForm(core, ctx.request, {
          required: ["role", "password"],
          optional: [],
        });
        if (!core.config.auth.enabled) throw new AuthDisabled();
        const role = form.get("role") as string;
        const address = clientAddress(ctx.request, ctx.server);
        const caller = await authenticatePassword(
          core,
          role,
          form.get("password") as string,
          address,
          "kahu",
        );
        const issued = issueToken(core, caller);
        const left =
          issued.expires_at === null ? null : Math.floor((Date.parse(issued.expires_at) - Date.now()) / 1000);
        ctx.set.headers["set-cookie"] = sessionCookie(issued.token, left);
        return { session: issued.id, uri: `${api}/auth/role/${role}` };
      },
      {
        parse: "none",
        detail: {
          summary: `Log in as a berth user (form: role = user name, password): ${SESSION_COOKIE} carries a token`,
          requestBody: formBody({
            role: t.String({ description: "a berth user's name" }),
            password: t.String(),
          }),
          responses: { 200: LoginBody },
          tags,
        },
      },
    )
    .post(
      "/auth/logout",
      (ctx) => {
        if (!core.config.auth.enabled) throw new AuthDisabled();
        const caller = callerOf(ctx);
        if (!caller?.tokenId) throw new Unauthorized("log out needs the session cookie (or a token)");
        revokeToken(core, caller, caller.tokenId);
        // Kahu answered a bare JSON string here.
        return Response.json("logged out", { headers: { "set-cookie": sessionCookie("", 0) } });
      },
      {
        parse: "none",
        detail: {
          summary: "End the session: its token is revoked and the cookie cleared",
          responses: { 200: LogoutBody },
          tags,
        },
      },
    );
}
