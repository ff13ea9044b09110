// Builds a real Core for tests: real libvirt (test driver by default), real in-memory SQLite.
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import type { Core } from "../../src/core/context.ts";
import { openDatabase } from "../../src/db/open.ts";
import { buildCore, createHypervisor } from "../../src/server.ts";
import { WORKERS } from "./workers.ts";

export function testConfig(toml = "", env: Record<string, string> = {}): Config {
  return parseConfig(toml, "test", {
    BERTH_HYPERVISOR_URI: "test:///default",
    BERTH_DATA_DIR: ":memory:",
    ...env,
  });
}

export async function testCore(config: Config = testConfig()): Promise<Core & { close(): Promise<void> }> {
  const db = openDatabase(config.data_dir);
  const hv = createHypervisor(config, WORKERS);
  const core = await buildCore(config, db, hv);
  return {
    ...core,
    async close() {
      await hv.close();
      db.close();
    },
  };
}
