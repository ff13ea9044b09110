// The demo pool out of the box: once its tiny guest is built, the image, NAT network, profile and pool named demo exist.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config/schema.ts";
import { imageByName } from "../../db/images.ts";
import { getNetworkRow } from "../../db/networks.ts";
import { getPoolRow } from "../../db/pools.ts";
import { getProfileRow } from "../../db/profiles.ts";
import { AppError } from "../../errors.ts";
import { log } from "../../log.ts";
import { SYSTEM } from "../auth/access.ts";
import type { Core } from "../context.ts";
import { importImage } from "../images/index.ts";
import { createNetwork } from "../networks/index.ts";
import { createPool } from "../pools/pools.ts";
import { createProfile } from "../profiles.ts";
import { tinyGuestFiles } from "./build-guest.ts";

/** The one name of the demo's image, network, profile and pool. */
export const DEMO = "demo";
/** The guest's busybox httpd: the pool's readiness check connects to it. */
const DEMO_PORT = 8080;
const IMPORT_WAIT_S = 300;

export const demoDir = (config: Config) => join(config.data_dir, "demo");

export type DemoState = "disabled" | "not_built" | "ready";

/**
 * Creates what is missing of the demo (never changes or deletes what exists, so an operator's own
 * `demo` resources win). Off when [demo] enabled is false or the guest is not built yet.
 */
export async function ensureDemo(core: Core): Promise<DemoState> {
  const demo = core.config.demo;
  if (!demo.enabled) return "disabled";
  const files = tinyGuestFiles(demoDir(core.config));
  if (!existsSync(files.kernel) || !existsSync(files.initrd)) {
    log.info("demo pool off: its guest is not built (berth demo-image builds it)", {
      dir: demoDir(core.config),
    });
    return "not_built";
  }
  if (!imageByName(core.db, DEMO)) {
    // berth's own guest, in its own directory: trusted whatever [images] import_dirs says.
    const op = await importImage(
      core,
      SYSTEM,
      { name: DEMO, kind: "kernel", kernel: { path: files.kernel }, initrd: { path: files.initrd } },
      { trustedDirs: [demoDir(core.config)] },
    );
    const done = await core.ops.wait(op.id, IMPORT_WAIT_S);
    if (done.status !== "succeeded") {
      throw new AppError(
        500,
        "demo_failed",
        `demo image import ${done.status}: ${done.error?.message ?? ""}`,
      );
    }
  }
  if (!getNetworkRow(core.db, DEMO))
    await createNetwork(core, SYSTEM, { name: DEMO, mode: "nat", subnet: demo.subnet });
  if (!getProfileRow(core.db, DEMO)) {
    createProfile(core, SYSTEM, {
      name: DEMO,
      cpus: 1,
      memory_mib: 256,
      root_disk_gb: 1,
      networks: [DEMO],
      boot: { mode: "kernel", kernel_image: DEMO, cmdline: "console=ttyS0" },
    });
  }
  if (!getPoolRow(core.db, DEMO)) {
    createPool(core, SYSTEM, {
      name: DEMO,
      profile: DEMO,
      size: demo.size,
      lifetime: 2,
      max_lifetime: 24,
      ready_ttl: 0,
      ready_check: `tcp:${DEMO_PORT}`,
      ready_timeout: 5,
    });
  }
  log.info("demo pool ready to fill", { pool: DEMO, size: demo.size });
  return "ready";
}
