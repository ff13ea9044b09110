// The DataCentred staging hypervisor agent's API at /hosts and /networks, answering errors as {"error": "<message>"}.
import { Elysia } from "elysia";
import type { Core } from "../../core/context.ts";
import type { ErrorBody } from "../errors.ts";
import { isStagingErrorBody, stagingErrorBody } from "../staging/errors.ts";
import { stagingHostRoutes } from "../staging/hosts.ts";
import { stagingNetworkRoutes } from "../staging/networks.ts";
import { ErrorSchema } from "../staging/schemas.ts";
import { type Front, noAuthRules } from "./front.ts";

export const stagingFront: Front = {
  name: "staging",
  title: "the DataCentred staging hypervisor agent's API",
  tags: ["staging agent"],
  errorSchema: ErrorSchema,
  errorBody: (native: ErrorBody) => stagingErrorBody(native.error.message),
  isErrorBody: isStagingErrorBody,
  // The agent had no credentials: every mutating route needs a token, like the native API's.
  auth: noAuthRules,
  // Served at the root of every listener it is on (src/config/fronts.ts).
  routes: (core: Core) => new Elysia().use(stagingHostRoutes(core)).use(stagingNetworkRoutes(core)),
};
