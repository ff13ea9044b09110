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
import { errorBodyFor, toErrorResponse } from "./errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const REALM = 'realm="berth"';

interface Rules {
  /** Where a password is the credential: issuing a token needs one (a stolen token cannot renew itself). */
  passwordOnly: { method: string; pattern: RegExp }[];
  /** Token routes where a password may stand in for a token, as vmpooler's clients list and delete with one. */
  passwordOrToken: { method?: string; pattern: RegExp }[];
  /** vmpooler's own exceptions: credentials that are optional here, core decides with or without them. */
  optional: { method: string; pattern: RegExp; by: "token" | "password" }[];
}

/**
 * vmpooler checks a token on checkout only when one is sent, and returns or tags a VM checked out
 * without one for anyone ([vmpooler] anonymous_checkout; core's anonymousLease decides per VM; a
 * lifetime in the PUT body still needs a token, which core enforces).
 */
function vmpoolerOptional(vp: string, anonymous: boolean): Rules["optional"] {
  const host = `^${vp}/vm/[^/]+/?$`;
  const anon: Rules["optional"] = anonymous
    ? [
        { method: "POST", pattern: new RegExp(`^${vp}/vm/?$`), by: "token" },
        { method: "POST", pattern: new RegExp(host), by: "token" },
        { method: "DELETE", pattern: new RegExp(host), by: "token" },
        { method: "PUT", pattern: new RegExp(host), by: "token" },
      ]
    : [];
  // GET /token/<id> answers a listed id to its owner's password (go-vmpooler sends one); the token itself needs none.
  return [...anon, { method: "GET", pattern: new RegExp(`^${vp}/token/[^/]+/?$`), by: "password" }];
}

/** The guard's tables; `vp` is [vmpooler] prefix, which the config schema limits to /, letters, digits, _ and -. */
function rulesFor(vp: string, vmpoolerAnonymous: boolean): Rules {
  return {
    optional: vmpoolerOptional(vp, vmpoolerAnonymous),
    passwordOnly: [
      { method: "POST", pattern: /^\/v1\/tokens$/ },
      { method: "POST", pattern: new RegExp(`^${vp}/token/?$`) },
    ],
    passwordOrToken: [
      { pattern: /^\/v1\/tokens(\/|$)/ },
      { pattern: new RegExp(`^${vp}/token/?$`) },
      // vmpooler's GET /token/<token> stays open: the token in the path is the credential.
      { method: "DELETE", pattern: new RegExp(`^${vp}/token/[^/]+$`) },
    ],
  };
}

const callers = new WeakMap<Request, Caller | null>();

/** The caller the guard resolved for this request: null when auth is off or an open route had no token. */
export function callerOf(ctx: { request: Request }): Caller | null {
  return callers.get(ctx.request) ?? null;
}

async function byPassword(core: Core, headers: Headers, address: string | null): Promise<Caller> {
  const basic = presentedBasic(headers);
  if (!basic) throw new Unauthorized("this route needs HTTP basic auth (user and password)", "Basic");
  return await authenticatePassword(core, basic.user, basic.password, address);
}

function byToken(core: Core, headers: Headers): Caller {
  const token = presentedToken(headers);
  if (!token) throw new Unauthorized("this route needs a token: X-AUTH-TOKEN or Authorization: Bearer");
  return authenticateToken(core, token);
}

/** What a request must present, by method and path; throws 401/403, or returns the caller (null: anonymous). */
async function authorize(
  core: Core,
  rules: Rules,
  method: string,
  path: string,
  headers: Headers,
  address: string | null,
): Promise<Caller | null> {
  const optional = rules.optional.find((r) => r.method === method && r.pattern.test(path));
  if (optional?.by === "token") return presentedToken(headers) ? byToken(core, headers) : null;
  if (optional?.by === "password" && presentedBasic(headers)) return await byPassword(core, headers, address);
  if (rules.passwordOnly.some((r) => r.method === method && r.pattern.test(path))) {
    return await byPassword(core, headers, address);
  }
  if (rules.passwordOrToken.some((r) => (r.method ?? method) === method && r.pattern.test(path))) {
    return presentedToken(headers) ? byToken(core, headers) : await byPassword(core, headers, address);
  }
  if (SAFE_METHODS.has(method)) {
    const token = presentedToken(headers);
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
  return byToken(core, headers);
}

/** The guard answers before any route's own mapping can run: in the shape of the front the path is under. */
function refusal(vmpoolerPrefix: string, path: string, e: AppError): Response {
  const { status, body } = toErrorResponse(e.errorCode, e);
  const headers: Record<string, string> = {};
  if (e instanceof Unauthorized) headers["www-authenticate"] = `${e.challenge} ${REALM}`;
  if (e instanceof TooManyRequests) headers["retry-after"] = String(e.retryAfterS);
  return Response.json(errorBodyFor(path, body, vmpoolerPrefix), { status, headers });
}

/**
 * Global: mounted right after the error mapping, it runs on every request before its body is parsed,
 * so an unauthenticated client never gets a body parsed or a route run. Off when [auth] enabled is false.
 */
export function authGuard(core: Core) {
  const rules = rulesFor(core.config.vmpooler.prefix, core.config.vmpooler.anonymous_checkout);
  return new Elysia()
    .onRequest(async ({ request, server }) => {
      if (!core.config.auth.enabled) return;
      const path = new URL(request.url).pathname;
      // Password checks are rate-limited per client address too (src/core/auth/throttle.ts).
      const address = server?.requestIP(request)?.address ?? null;
      try {
        callers.set(request, await authorize(core, rules, request.method, path, request.headers, address));
      } catch (e) {
        if (e instanceof AppError) return refusal(core.config.vmpooler.prefix, path, e);
        throw e;
      }
    })
    .derive({ as: "global" }, ({ request }) => ({ caller: callerOf({ request }) }));
}
