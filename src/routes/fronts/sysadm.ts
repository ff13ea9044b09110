// TrueOS sysadm's iohyve class: REST at /sysadm/<class> (its https listener and the main one) and its WebSocket protocol on listen_ws.
import { Elysia, t } from "elysia";
import type { Config } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import type { ErrorBody } from "../errors.ts";
import { isSysadmErrorBody, sysadmErrorBody } from "../sysadm/errors.ts";
import { sysadmRestRoutes } from "../sysadm/rest.ts";
import { sysadmSocketRoutes } from "../sysadm/socket.ts";
import { type AuthRules, type Front, noAuthRules } from "./front.ts";

/** Every request needs a berth user: Basic per request as sysadm's REST took it, or a berth token. */
function auth(_config: Config, bases: readonly string[]): AuthRules {
  const rules = noAuthRules();
  for (const base of bases) {
    // Its routes only: another path is no route (404 before any credential).
    for (const method of ["PUT", "POST"])
      rules.passwordOrToken.push({ method, pattern: new RegExp(`^${base}/sysadm/[^/]+$`) });
  }
  return rules;
}

function routes(core: Core, bases: readonly string[]) {
  const app = new Elysia();
  for (const base of bases) app.use(new Elysia({ prefix: base }).use(sysadmRestRoutes(core)));
  return app;
}

export const sysadmFront: Front = {
  name: "sysadm",
  title: "TrueOS sysadm's iohyve class (REST here; wss on [sysadm] listen_ws)",
  tags: ["sysadm"],
  errorBody: (native: ErrorBody) => sysadmErrorBody(native.error.code, native.error.message),
  errorSchema: t.Object({
    args: t.Object({
      code: t.String({ description: "berth's error code" }),
      message: t.String({ description: "what went wrong" }),
    }),
  }),
  isErrorBody: isSysadmErrorBody,
  auth,
  routes,
  socket: sysadmSocketRoutes,
};
