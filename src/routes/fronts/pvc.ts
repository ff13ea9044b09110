// PVC's old API v1 (its manual's dialect) at /api/v1 on its own listener: values from the query and forms, 200/510/520/599, JSON arrays.
import { Elysia, t } from "elysia";
import type { Config } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import { pvcAclRoutes } from "../pvc/acls.ts";
import { pvcDhcpRoutes } from "../pvc/dhcp.ts";
import { isPvcErrorBody, pvcErrorBody, pvcErrorStatus } from "../pvc/errors.ts";
import { pvcNetworkRoutes } from "../pvc/networks.ts";
import { pvcNodeRoutes } from "../pvc/nodes.ts";
import { pvcRootRoutes } from "../pvc/root.ts";
import { PVC_SESSION_COOKIE, pvcSessionRoutes } from "../pvc/session.ts";
import { pvcStorageRoutes } from "../pvc/storage.ts";
import { pvcVmRoutes } from "../pvc/vms.ts";
import { type AuthRules, type Front, noAuthRules } from "./front.ts";

/**
 * With auth on every route needs a berth token (the `token` value, the session cookie, or a header),
 * but the root, the login and logout routes and GET /api/v1/storage, as PVC had them.
 */
function auth(_config: Config, bases: readonly string[]): AuthRules {
  const rules = noAuthRules();
  for (const base of bases) {
    const api = `${base}/api/v1`;
    const all = new RegExp(`^${api}(/|$)`);
    // Its resources; a path outside them is no route (404 before any credential, as Flask routed first).
    const resources = new RegExp(`^${api}/(vm|node|network|storage)(/|$)`);
    for (const method of ["GET", "POST"]) {
      rules.optional.push(
        { method, pattern: new RegExp(`^${api}/?$`), by: "token" },
        { method, pattern: new RegExp(`^${api}/auth/(login|logout)/?$`), by: "token" },
      );
    }
    rules.optional.push({ method: "GET", pattern: new RegExp(`^${api}/storage/?$`), by: "token" });
    rules.passwordOrToken.push({ pattern: resources });
    rules.tokenCookies.push({ name: PVC_SESSION_COOKIE, pattern: all });
    rules.tokenValues.push({ name: "token", pattern: all });
  }
  return rules;
}

function routes(core: Core, bases: readonly string[]) {
  const app = new Elysia();
  for (const base of bases) {
    const api = `${base}/api/v1`;
    app.use(
      new Elysia({ prefix: api })
        .use(pvcRootRoutes())
        .use(pvcSessionRoutes(core, api))
        .use(pvcNodeRoutes(core))
        .use(pvcVmRoutes(core))
        .use(pvcNetworkRoutes(core))
        .use(pvcDhcpRoutes(core))
        .use(pvcAclRoutes(core))
        .use(pvcStorageRoutes(core)),
    );
  }
  return app;
}

export const pvcFront: Front = {
  name: "pvc",
  title: "PVC's API v1 (its manual's dialect, on its own listener)",
  tags: ["pvc"],
  errorSchema: t.Object({
    message: t.String({
      description: "ERROR: what went wrong (PVC's 510), or Authentication required, VM not found.",
    }),
  }),
  errorBody: pvcErrorBody,
  errorStatus: pvcErrorStatus,
  refusalStatuses: [510, 520, 599],
  isErrorBody: isPvcErrorBody,
  auth,
  routes,
};
