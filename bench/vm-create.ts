import { buildVolumeXml } from "../src/xml/storage.ts";
import { systemCore } from "../test/integration/support/system-core.ts";
import { apiClient } from "../test/support/api.ts";
import { DEFAULT_WORKERS, requireLibvirt } from "./support/libvirt-env.ts";
import { msCells, printTable, writeResults } from "./support/report.ts";
import { summarize } from "./support/stats.ts";

requireLibvirt();
const n = Number(process.argv[2] ?? 8);
const pool = `berth-bench-${process.pid}`;
const core = await systemCore(pool, "", DEFAULT_WORKERS);
const api = apiClient(core);

const createMs: number[] = [];
const overlayMs: number[] = [];
const deleteMs: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await api.post("/v1/vms?wait=true", {
      name: `bench-${process.pid}-${i}`,
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
    });
    createMs.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    const t1 = performance.now();
    const overlay = `overlay-${i}.qcow2`;
    await core.hv.call("volume.create", {
      pool,
      xml: buildVolumeXml({
        name: overlay,
        capacityBytes: 2 ** 30,
        format: "qcow2",
        backing: { path: r.body.result.disks[0].path, format: "qcow2" },
      }),
    });
    overlayMs.push(performance.now() - t1);
    await core.hv.call("volume.delete", { pool, volume: overlay });
    const t2 = performance.now();
    await api.delete(`/v1/vms/bench-${process.pid}-${i}?wait=true`);
    deleteMs.push(performance.now() - t2);
  }
} finally {
  await core.hv.call("pool.destroy", { pool }).catch((e) => console.warn(`pool.destroy: ${e}`));
  await core.hv.call("pool.undefine", { pool }).catch((e) => console.warn(`pool.undefine: ${e}`));
  await core.close();
}

const rows = {
  "create → running (API, ?wait=true)": summarize(createMs),
  "linked-clone overlay (pool API)": summarize(overlayMs),
  "delete (API, ?wait=true)": summarize(deleteMs),
};
printTable(
  `VM lifecycle on qemu:///system, ${n} sequential VMs`,
  Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, msCells(v)])),
);
writeResults("vm-create", { n, rows });
process.exit(0);
