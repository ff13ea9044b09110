// vmpooler's API under [vmpooler] prefix (/api/v1): /vm, /ondemandvm, /token, /status and /summary, over berth's core.
import { Elysia } from "elysia";
import type { Core } from "../../core/context.ts";
import { vmpoolerOndemandRoutes } from "./ondemand.ts";
import { vmpoolerDashboardRoutes, vmpoolerStatusRoutes } from "./status.ts";
import { vmpoolerTokenRoutes } from "./tokens.ts";
import { vmpoolerVmRoutes } from "./vms.ts";

export function vmpoolerRoutes(core: Core) {
  return new Elysia()
    .use(vmpoolerVmRoutes(core))
    .use(vmpoolerOndemandRoutes(core))
    .use(vmpoolerTokenRoutes(core))
    .use(vmpoolerStatusRoutes(core))
    .use(vmpoolerDashboardRoutes(core));
}
