// Builds the HTTP application: the native API, docs, and the one error mapping.
import { Elysia } from "elysia";
import type { Core } from "../core/context.ts";
import { authGuard } from "./auth.ts";
import { bodyGuard } from "./body-guard.ts";
import { docsRoutes } from "./docs.ts";
import { errorMapping } from "./errors.ts";
import { metricsRoutes } from "./metrics.ts";
import { checkoutRoutes } from "./native/checkout.ts";
import { eventRoutes } from "./native/events.ts";
import { imageRoutes } from "./native/images.ts";
import { metaRoutes } from "./native/meta.ts";
import { networkRoutes } from "./native/networks.ts";
import { operationRoutes } from "./native/operations.ts";
import { poolRoutes } from "./native/pools.ts";
import { profileRoutes } from "./native/profiles.ts";
import { requestRoutes } from "./native/requests.ts";
import { sizeRoutes } from "./native/sizes.ts";
import { statusRoutes } from "./native/status.ts";
import { tokenRoutes } from "./native/tokens.ts";
import { vmDiskRoutes } from "./native/vm-disks.ts";
import { vmInfoRoutes } from "./native/vm-info.ts";
import { vmPowerRoutes } from "./native/vm-power.ts";
import { vmSnapshotRoutes } from "./native/vm-snapshots.ts";
import { vmXmlRoutes } from "./native/vm-xml.ts";
import { vmRoutes } from "./native/vms.ts";
import { stagingRoutes } from "./staging/index.ts";
import { vmpoolerRoutes } from "./vmpooler/index.ts";

export function createApp(core: Core) {
  // normalize: false makes unknown body fields a validation error instead of silently dropping them.
  return new Elysia({ normalize: false })
    .use(errorMapping(core.config.vmpooler.prefix))
    .use(authGuard(core))
    .use(bodyGuard(core.config.limits.max_body_bytes))
    .use(docsRoutes())
    .use(metaRoutes(core))
    .use(networkRoutes(core))
    .use(sizeRoutes(core))
    .use(profileRoutes(core))
    .use(imageRoutes(core))
    .use(operationRoutes(core))
    .use(eventRoutes(core))
    .use(vmRoutes(core))
    .use(vmPowerRoutes(core))
    .use(vmDiskRoutes(core))
    .use(vmSnapshotRoutes(core))
    .use(vmInfoRoutes(core))
    .use(vmXmlRoutes(core))
    .use(poolRoutes(core))
    .use(checkoutRoutes(core))
    .use(requestRoutes(core))
    .use(stagingRoutes(core))
    .use(tokenRoutes(core))
    .use(statusRoutes(core))
    .use(metricsRoutes(core))
    .use(vmpoolerRoutes(core));
}

export type App = ReturnType<typeof createApp>;
