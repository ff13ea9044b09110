// PVC's login: a form with a berth token sets the session cookie (the token, HttpOnly, re-checked on every request), then 302 to /api/v1; logout clears it.
import { Elysia, t } from "elysia";
import { authenticateToken } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { LoginFormBody, MessageBody, RedirectResponse, pvcValues as valuesBody } from "./bodies.ts";
import { pvcValues } from "./values.ts";

const tags = ["pvc"];
export const PVC_SESSION_COOKIE = "session";

const LOGIN_FORM =
  '<form method="post"><p><input type="text" name="token" size="48"></p><p><input type="submit" value="Login"></p></form>';

function cookie(token: string, maxAgeS?: number): string {
  return new Bun.Cookie(PVC_SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    ...(maxAgeS !== undefined ? { maxAge: maxAgeS } : {}),
  }).serialize();
}

const redirect = (api: string, setCookie: string) =>
  new Response(null, { status: 302, headers: { location: api, "set-cookie": setCookie } });

const disabled = () => ({ message: "Authentication is disabled." });

const logout = (core: Core, api: string) =>
  core.config.auth.enabled ? redirect(api, cookie("", 0)) : disabled();

/** Under `<base>/api/v1`; `api` is that path. */
export function pvcSessionRoutes(core: Core, api: string) {
  return new Elysia()
    .get(
      "/auth/login",
      () =>
        core.config.auth.enabled
          ? new Response(LOGIN_FORM, { headers: { "content-type": "text/html; charset=utf-8" } })
          : disabled(),
      { detail: { summary: "The login form (one field, token)", responses: { 200: LoginFormBody }, tags } },
    )
    .post(
      "/auth/login",
      async ({ request }) => {
        if (!core.config.auth.enabled) return disabled();
        await using values = await pvcValues(core, request);
        // PVC matched a token by substring (an empty one logged in); berth compares the whole token.
        authenticateToken(core, values.get("token") ?? "");
        return redirect(api, cookie(values.get("token") as string));
      },
      {
        parse: "none",
        detail: {
          summary: "Log in with a berth token (form: token): a session cookie, then 302 to /api/v1",
          requestBody: valuesBody({ token: t.String() }),
          responses: { 200: MessageBody, 302: RedirectResponse },
          tags,
        },
      },
    )
    .get("/auth/logout", () => logout(core, api), {
      detail: {
        summary: "Log out: the session cookie is cleared, then 302 to /api/v1",
        responses: { 200: MessageBody, 302: RedirectResponse },
        tags,
      },
    })
    .post("/auth/logout", () => logout(core, api), {
      parse: "none",
      detail: { summary: "Log out (as GET)", responses: { 200: MessageBody, 302: RedirectResponse }, tags },
    });
}
