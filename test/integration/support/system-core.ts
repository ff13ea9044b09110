// A berth core on the real libvirtd for integration tests: TCG guests, its own storage pool QEMU can reach.
import { chmodSync } from "node:fs";
import { testConfig, testCore } from "../../support/core.ts";
import { SYSTEM_URI } from "./env.ts";

export type SystemCore = Awaited<ReturnType<typeof testCore>>;

/**
 * A core on qemu:///system with `domain_type = "qemu"`, `workers` hypervisor Workers (2 by default: light
 * on a 2-core machine) and the storage pool `pool`; `extraToml` follows the [storage] table.
 */
export async function systemCore(pool: string, extraToml = "", workers = 2): Promise<SystemCore> {
  const config = testConfig(
    `[hypervisor]\ndomain_type = "qemu"\nworkers = ${workers}\n[storage]\npool = "${pool}"\n${extraToml}`,
    { BERTH_HYPERVISOR_URI: SYSTEM_URI },
  );
  chmodSync(config.data_dir, 0o711); // QEMU must reach the pool below it
  return await testCore(config);
}

/** Stops and undefines the test's storage pool; returns the volumes still in it (each test expects none). */
export async function dropStoragePool(core: SystemCore, pool: string): Promise<string[]> {
  const left = (await core.hv.call("volume.list", { pool })).map((v) => v.name);
  await core.hv.call("pool.destroy", { pool }).catch(() => undefined);
  await core.hv.call("pool.undefine", { pool }).catch(() => undefined);
  return left;
}
