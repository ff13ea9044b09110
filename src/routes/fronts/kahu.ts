// Kahu's API under [kahu] prefix + /v0 (its catalogue, the top level and tenants' instances, its session login), answering errors as {"message"}.
import { Elysia, t } from "elysia";
import type { Config } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import type { ErrorBody } from "../errors.ts";
import { kahuCatalogueRoutes } from "../kahu/catalogue.ts";
import { isKahuErrorBody, kahuErrorBody } from "../kahu/errors.ts";
import { kahuInstanceRoutes } from "../kahu/instances.ts";
import { kahuSessionRoutes, SESSION_COOKIE } from "../kahu/session.ts";
import { kahuSnapshotRoutes } from "../kahu/snapshots.ts";
import { kahuStorageRoutes } from "../kahu/storage.ts";
import { type AuthRules, type Front, noAuthRules } from "./front.ts";

/** The scopes instances live in: the top level, and each tenant. */
const SCOPES = ["", "/tenant/:tenant"];

/**
 * Under each base: reads take a token, the session cookie or a password (none: anonymous, core
 * decides); changes need one of them; logging in needs none (the form carries the password).
 */
function auth(_config: Config, bases: readonly string[]): AuthRules {
  const rules = noAuthRules();
  for (const base of bases) {
    const api = new RegExp(`^${base}/v0(/|$)`);
    rules.optional.push(
      { method: "POST", pattern: new RegExp(`^${base}/v0/auth/login/?$`), by: "token" },
      { method: "GET", pattern: api, by: "password" },
    );
    for (const method of ["POST", "PUT", "PATCH", "DELETE"])
      rules.passwordOrToken.push({ method, pattern: api });
    rules.tokenCookies.push({ name: SESSION_COOKIE, pattern: api });
  }
  return rules;
}

function routes(core: Core, bases: readonly string[]) {
  const app = new Elysia();
  for (const base of bases) {
    const api = `${base}/v0`;
    const v0 = new Elysia({ prefix: api }).use(kahuCatalogueRoutes(core)).use(kahuSessionRoutes(core, api));
    for (const scope of SCOPES) {
      v0.use(kahuInstanceRoutes(core, api, scope))
        .use(kahuStorageRoutes(core, api, scope))
        .use(kahuSnapshotRoutes(core, api, scope));
    }
    app.use(v0);
  }
  return app;
}

export const kahuFront: Front = {
  name: "kahu",
  title: "Kahu's API v0 (Lightcrest)",
  tags: ["kahu"],
  errorSchema: t.Object({ message: t.String({ description: "what went wrong" }) }),
  errorBody: (native: ErrorBody) => kahuErrorBody(native.error.message),
  isErrorBody: isKahuErrorBody,
  auth,
  routes,
};
