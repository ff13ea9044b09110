// The DataCentred staging hypervisor agent's API at the root: /hosts and /networks, over berth's core.
import { Elysia } from "elysia";
import type { Core } from "../../core/context.ts";
import { stagingHostRoutes } from "./hosts.ts";
import { stagingNetworkRoutes } from "./networks.ts";

export function stagingRoutes(core: Core) {
  return new Elysia().use(stagingHostRoutes(core)).use(stagingNetworkRoutes(core));
}
