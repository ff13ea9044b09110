// Builds a real Core for tests: real libvirt (test driver by default), real SQLite in a temporary directory.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import type { Core } from "../../src/core/context.ts";
import { openHypervisor } from "../../src/core/hypervisor/open.ts";
import { openDatabase } from "../../src/db/open.ts";
import { buildCore } from "../../src/server.ts";
import { WORKERS } from "./workers.ts";

/** A config on the test driver with a fresh temporary data_dir (its database, pool and console paths). */
export function testConfig(toml = "", env: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(join(tmpdir(), "berth-test-"));
  // sysadm's listeners (12150/12151) and PVC's (7370) stay off unless the test's own config asks for
  // them: an installed berth holds those ports, and a test berth must never fail to start on them.
  const sysadm: Record<string, string> = /^\[sysadm\]/m.test(toml) ? {} : { BERTH_SYSADM_ENABLED: "false" };
  const pvc: Record<string, string> = /^\[pvc\]/m.test(toml) ? {} : { BERTH_PVC_LISTEN: "" };
  return parseConfig(toml, "test", {
    BERTH_HYPERVISOR_URI: "test:///default",
    BERTH_DATA_DIR: dataDir,
    ...sysadm,
    ...pvc,
    ...env,
  });
}

export async function testCore(config: Config = testConfig()): Promise<Core & { close(): Promise<void> }> {
  const db = openDatabase(config.data_dir);
  const hv = openHypervisor(config, WORKERS);
  const core = await buildCore(config, db, hv);
  return {
    ...core,
    async close() {
      await hv.close();
      db.close();
    },
  };
}
