// berth's own API: /v1, /healthz, /metrics and the dashboard at /, answering errors as {"error": {"code", "message"}}.
import { Elysia } from "elysia";
import type { Core } from "../../core/context.ts";
import { dashboardRoutes } from "../dashboard.ts";
import type { ErrorBody } from "../errors.ts";
import { fleetFlushRoutes } from "../fleet-flush.ts";
import { fleetMoveRoutes } from "../fleet-moves.ts";
import { fleetPoolRoutes } from "../fleet-pools.ts";
import { metricsRoutes } from "../metrics.ts";
import { checkoutRoutes } from "../native/checkout.ts";
import { eventRoutes } from "../native/events.ts";
import { imageRoutes } from "../native/images.ts";
import { metaRoutes } from "../native/meta.ts";
import { networkReservationRoutes } from "../native/network-reservations.ts";
import { networkRoutes } from "../native/networks.ts";
import { operationRoutes } from "../native/operations.ts";
import { poolVmRoutes } from "../native/pool-vms.ts";
import { poolRoutes } from "../native/pools.ts";
import { profileRoutes } from "../native/profiles.ts";
import { projectRoutes } from "../native/projects.ts";
import { requestRoutes } from "../native/requests.ts";
import { ErrorSchema } from "../native/schemas.ts";
import { sizeRoutes } from "../native/sizes.ts";
import { statusRoutes } from "../native/status.ts";
import { tokenRoutes } from "../native/tokens.ts";
import { vmConsoleSocketRoutes } from "../native/vm-console-socket.ts";
import { vmDiskRoutes } from "../native/vm-disks.ts";
import { vmInfoRoutes } from "../native/vm-info.ts";
import { vmMigrateRoutes } from "../native/vm-migrate.ts";
import { vmPowerRoutes } from "../native/vm-power.ts";
import { vmRecoverRoutes } from "../native/vm-recover.ts";
import { vmSnapshotRoutes } from "../native/vm-snapshots.ts";
import { vmXmlRoutes } from "../native/vm-xml.ts";
import { vmRoutes } from "../native/vms.ts";
import { pvcFleetRoutes } from "../pvc/fleet-forward.ts";
import type { Front } from "./front.ts";

function isNativeErrorBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const e = (body as { error?: unknown }).error as Record<string, unknown> | undefined;
  return typeof e === "object" && e !== null && typeof e.code === "string" && typeof e.message === "string";
}

export const nativeFront: Front = {
  name: "native",
  title: "berth's native API",
  tags: [
    "meta",
    "networks",
    "sizes",
    "profiles",
    "images",
    "operations",
    "events",
    "vms",
    "vm power",
    "vm disks",
    "vm snapshots",
    "vm xml",
    "pools",
    "tokens",
    "status",
  ],
  errorSchema: ErrorSchema,
  errorBody: (native: ErrorBody) => native,
  isErrorBody: isNativeErrorBody,
  auth: () => ({
    passwordOnly: [{ method: "POST", pattern: /^\/v1\/tokens$/ }],
    passwordOrToken: [{ pattern: /^\/v1\/tokens(\/|$)/ }],
    optional: [],
    tokenCookies: [],
    tokenValues: [],
  }),
  // Served at the root of the main listener only (src/config/fronts.ts).
  routes: (core: Core) =>
    new Elysia()
      .use(metaRoutes(core))
      .use(networkRoutes(core))
      .use(networkReservationRoutes(core))
      .use(sizeRoutes(core))
      .use(profileRoutes(core))
      .use(imageRoutes(core))
      .use(operationRoutes(core))
      .use(eventRoutes(core))
      .use(vmRoutes(core))
      .use(projectRoutes(core))
      .use(vmPowerRoutes(core))
      .use(vmMigrateRoutes(core))
      .use(vmRecoverRoutes(core))
      .use(fleetMoveRoutes(core))
      .use(pvcFleetRoutes(core))
      .use(fleetFlushRoutes(core))
      .use(vmDiskRoutes(core))
      .use(vmSnapshotRoutes(core))
      .use(vmInfoRoutes(core))
      .use(vmConsoleSocketRoutes(core))
      .use(vmXmlRoutes(core))
      .use(poolRoutes(core))
      .use(poolVmRoutes(core))
      .use(checkoutRoutes(core))
      .use(fleetPoolRoutes(core))
      .use(requestRoutes(core))
      .use(tokenRoutes(core))
      .use(statusRoutes(core))
      .use(metricsRoutes(core))
      .use(dashboardRoutes(core)),
};
