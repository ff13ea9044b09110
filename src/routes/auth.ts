// The one auth guard of every front: resolves the caller and demands a token for every mutating route; core authorizes.
import { Elysia } from "elysia";
import {
  authenticatePassword,
  authenticateToken,
  type Caller,
  presentedBasic,
  presentedToken,
  Unauthorized,
} from "../core/auth/index.ts";
import { TooManyRequests } from "../core/auth/throttle.ts";
import type { Core } from "../core/context.ts";
import { AppError } from "../errors.ts";
import { frontOfRequest, logAccess } from "./access-log.ts";
import { clientAddress } from "./client-address.ts";
import { type ErrorShaper, toErrorResponse } from "./errors.ts";
import { forwardedOf } from "./fleet-arrival.ts";
import type { AuthRules } from "./fronts/front.ts";
import { readRequestValues } from "./request-values.ts";
import { socketToken } from "./socket-protocol.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const REALM = 'realm="berth"';

const callers = new WeakMap<Request, Caller | null>();

/** The caller the guard resolved for this request: null when auth is off or an open route had no token. */
export function callerOf(ctx: { request: Request }): Caller | null {
  return callers.get(ctx.request) ?? null;
}

async function byPassword(core: Core, request: Request, address: string | null): Promise<Caller> {
  const basic = presentedBasic(request.headers);
  if (!basic) throw new Unauthorized("this route needs HTTP basic auth (user and password)", "Basic");
  return await authenticatePassword(core, basic.user, basic.password, address, frontOfRequest(request));
}

/**
 * The token a request presents: in a header, else in a cookie its front reads tokens from, else in a
 * request value its front reads them from (read from a copy of the body: the route reads it again).
 */
async function tokenOf(core: Core, rules: AuthRules, path: string, request: Request): Promise<string | null> {
  const header = presentedToken(request.headers);
  if (header !== null) return header;
  // A WebSocket upgrade may carry it as a subprotocol (kept out of URLs, logs and history; never a cookie).
  const socket = socketToken(request);
  if (socket !== null) return socket;
  const cookie = rules.tokenCookies.find((c) => c.pattern.test(path));
  const inCookie = cookie ? new Bun.CookieMap(request.headers.get("cookie") ?? "").get(cookie.name) : null;
  if (inCookie) return inCookie;
  const value = rules.tokenValues.find((v) => v.pattern.test(path));
  if (!value) return null;
  await using values = await readRequestValues(request.body ? (request.clone() as Request) : request, {
    json: false,
    otherBodies: "ignore",
    maxValueBytes: core.config.limits.max_body_bytes,
  });
  return values.get(value.name) ?? null;
}

function byToken(core: Core, token: string | null): Caller {
  if (!token) throw new Unauthorized("this route needs a token: X-AUTH-TOKEN or Authorization: Bearer");
  return authenticateToken(core, token);
}

/** What a request must present, by method and path; throws 401/403, or returns the caller (null: anonymous). */
async function authorize(
  core: Core,
  rules: AuthRules,
  request: Request,
  path: string,
  address: string | null,
): Promise<Caller | null> {
  const { method, headers } = request;
  // Another host of the fleet authenticated this caller; the fleet signature was checked on arrival.
  const fwd = forwardedOf(request);
  if (fwd) return fwd.caller;
  const token = await tokenOf(core, rules, path, request);
  const optional = rules.optional.find((r) => r.method === method && r.pattern.test(path));
  if (optional?.by === "token") return token ? byToken(core, token) : null;
  if (optional?.by === "password" && presentedBasic(headers)) return await byPassword(core, request, address);
  if (rules.passwordOnly.some((r) => r.method === method && r.pattern.test(path))) {
    return await byPassword(core, request, address);
  }
  if (rules.passwordOrToken.some((r) => (r.method ?? method) === method && r.pattern.test(path))) {
    return token ? byToken(core, token) : await byPassword(core, request, address);
  }
  if (SAFE_METHODS.has(method)) {
    if (!token) return null;
    try {
      return authenticateToken(core, token);
    } catch (e) {
      // Open routes stay open: a stale token on a GET reads as anonymous rather than failing.
      if (e instanceof Unauthorized) return null;
      throw e;
    }
  }
  // Which objects the caller may touch is core's decision (src/core/auth/access.ts, vm-access.ts).
  return byToken(core, token);
}

/** The guard answers before any route's own mapping can run: in the shape of the front the path is under. */
function refusal(shape: ErrorShaper, path: string, e: AppError): Response {
  const { status, body } = toErrorResponse(e.errorCode, e);
  const headers: Record<string, string> = {};
  if (e instanceof Unauthorized) headers["www-authenticate"] = `${e.challenge} ${REALM}`;
  if (e instanceof TooManyRequests) headers["retry-after"] = String(e.retryAfterS);
  const shaped = shape(path, status, body, false);
  return Response.json(shaped.body, { status: shaped.status, headers });
}

/**
 * Global: mounted right after the error mapping, it runs on every request before its body is parsed,
 * so an unauthenticated client never gets a body parsed or a route run. Off when [auth] enabled is false.
 * `rules` are every front's tables (src/routes/fronts/registry.ts), `shape` answers in the path's front's shape.
 */
export function authGuard(core: Core, rules: AuthRules, shape: ErrorShaper) {
  return new Elysia()
    .onRequest(async ({ request, server }) => {
      if (!core.config.auth.enabled) return;
      const path = new URL(request.url).pathname;
      // Password checks are rate-limited per client address too (src/core/auth/throttle.ts).
      const address = clientAddress(request, server);
      try {
        callers.set(request, await authorize(core, rules, request, path, address));
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        const answer = refusal(shape, path, e);
        // No route runs, so no after-response hook either: the refusal writes its own access line.
        logAccess(request, answer.status, null);
        return answer;
      }
    })
    .derive({ as: "global" }, ({ request }) => ({ caller: callerOf({ request }) }));
}
