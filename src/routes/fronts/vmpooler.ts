// vmpooler's API under [vmpooler] prefix (/api/v1; on its own listener also at the root) and its dashboard's stats, answering errors as {"ok": false, "reason"}.
import { Elysia } from "elysia";
import type { Config } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import type { ErrorBody } from "../errors.ts";
import { isVmpoolerErrorBody, vmpoolerErrorBody } from "../vmpooler/errors.ts";
import { vmpoolerOndemandRoutes } from "../vmpooler/ondemand.ts";
import { FailSchema } from "../vmpooler/schemas.ts";
import { vmpoolerDashboardRoutes, vmpoolerStatusRoutes } from "../vmpooler/status.ts";
import { vmpoolerTokenRoutes } from "../vmpooler/tokens.ts";
import { vmpoolerVmRoutes } from "../vmpooler/vms.ts";
import type { AuthRules, Front } from "./front.ts";

/**
 * vmpooler checks a token on checkout only when one is sent, and returns or tags a VM checked out
 * without one for anyone ([vmpooler] anonymous_checkout; core's anonymousLease decides per VM; a
 * lifetime in the PUT body still needs a token, which core enforces).
 */
function optional(vp: string, anonymous: boolean): AuthRules["optional"] {
  const host = `^${vp}/vm/[^/]+/?$`;
  const anon: AuthRules["optional"] = anonymous
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

/** The guard's tables under one base; a base is limited by the config schema to /, letters, digits, _ and -. */
function authUnder(config: Config, vp: string): AuthRules {
  return {
    optional: optional(vp, config.vmpooler.anonymous_checkout),
    passwordOnly: [{ method: "POST", pattern: new RegExp(`^${vp}/token/?$`) }],
    passwordOrToken: [
      { pattern: new RegExp(`^${vp}/token/?$`) },
      // vmpooler's GET /token/<token> stays open: the token in the path is the credential.
      { method: "DELETE", pattern: new RegExp(`^${vp}/token/[^/]+$`) },
    ],
    tokenCookies: [],
    tokenValues: [],
  };
}

function auth(config: Config, bases: readonly string[]): AuthRules {
  const all = bases.map((base) => authUnder(config, base));
  return {
    optional: all.flatMap((r) => r.optional),
    passwordOnly: all.flatMap((r) => r.passwordOnly),
    passwordOrToken: all.flatMap((r) => r.passwordOrToken),
    tokenCookies: [],
    tokenValues: [],
  };
}

/** Its API under each base, and the dashboard's stats once, at the root. */
function routes(core: Core, bases: readonly string[]) {
  const app = new Elysia();
  for (const base of bases) {
    app
      .use(vmpoolerVmRoutes(core, base))
      .use(vmpoolerOndemandRoutes(core, base))
      .use(vmpoolerTokenRoutes(core, base))
      .use(vmpoolerStatusRoutes(core, base));
  }
  return app.use(vmpoolerDashboardRoutes(core));
}

export const vmpoolerFront: Front = {
  name: "vmpooler",
  title: "vmpooler's API v1",
  tags: ["vmpooler"],
  errorSchema: FailSchema,
  errorBody: (native: ErrorBody) => vmpoolerErrorBody(native.error.message),
  isErrorBody: isVmpoolerErrorBody,
  auth,
  routes,
};
