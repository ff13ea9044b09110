// The web dashboard at / on the main listener: one page, its script and stylesheet, embedded in the binary, compressed, cacheable, under a strict CSP.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { dashboardAssets } from "./dashboard-bundle.ts" with { type: "macro" };
import { StaticBody } from "./static-body.ts";

/** Where the page and its assets are served (src/config/fronts.ts claims both for the native front). */
export const DASHBOARD_PATH = "/";
export const ASSETS_PATH = "/ui";

// Inlined at build time: the compiled binary carries the bundle, nothing is read from disk or fetched.
const ASSETS = dashboardAssets();

/** Everything from this origin only: no inline script or style, no frames, no form posts, no other host. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** An asset's URL names its content, so it may be cached for good; the page that names it is revalidated. */
function asset(text: string, ext: string, type: string): { path: string; body: StaticBody } {
  const path = `${ASSETS_PATH}/app-${Bun.hash(text).toString(36)}.${ext}`;
  return { path, body: StaticBody.ofText(text, type, "public, max-age=31536000, immutable") };
}

function withHeaders(response: Response): Response {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) response.headers.set(k, v);
  return response;
}

export function dashboardRoutes(core: Core) {
  const script = asset(ASSETS.script, "js", "text/javascript; charset=utf-8");
  const style = asset(ASSETS.style, "css", "text/css; charset=utf-8");
  // The page says whether [auth] is on, so it asks for a token before calling anything that needs one.
  const page = StaticBody.ofText(
    ASSETS.page
      .replace("__SCRIPT__", script.path)
      .replace("__STYLE__", style.path)
      .replace("__AUTH__", core.config.auth.enabled ? "on" : "off"),
    "text/html; charset=utf-8",
  );
  const hide = { detail: { hide: true } };
  return new Elysia()
    .get(DASHBOARD_PATH, ({ request }) => withHeaders(page.response(request)), hide)
    .get(script.path, ({ request }) => withHeaders(script.body.response(request)), hide)
    .get(style.path, ({ request }) => withHeaders(style.body.response(request)), hide);
}
