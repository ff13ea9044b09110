// Measures VM creation through berth's native API on real libvirtd: create → running, per VM, sequential.
// Usage: bun bench/vm-create.ts [N]   (root; libvirtd running). Prints a table and writes bench/results/vm-create.json.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { apiClient } from "../test/support/api.ts";
import { testConfig, testCore } from "../test/support/core.ts";

const n = Number(process.argv[2] ?? 8);
const pool = `berth-bench-${process.pid}`;
const config = testConfig(`[hypervisor]\ndomain_type = "qemu"\n[storage]\npool = "${pool}"\n`, {
  BERTH_HYPERVISOR_URI: "qemu:///system",
});
chmodSync(config.data_dir, 0o711);
const core = await testCore(config);
const api = apiClient(core);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, min: s[0] ?? 0, median: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0 };
}

const createMs: number[] = [];
const overlayMs: number[] = [];
const deleteMs: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await api.post("/v1/vms?wait=true", {
      name: `bench-${i}`,
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
    });
    createMs.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    const t1 = performance.now();
    await core.hv.call("volume.create", {
      pool,
      xml: `<volume><name>overlay-${i}.qcow2</name><capacity unit='G'>1</capacity><target><format type='qcow2'/></target><backingStore><path>${r.body.result.disks[0].path}</path><format type='qcow2'/></backingStore></volume>`,
    });
    overlayMs.push(performance.now() - t1);
    await core.hv.call("volume.delete", { pool, volume: `overlay-${i}.qcow2` });
    const t2 = performance.now();
    await api.delete(`/v1/vms/bench-${i}?wait=true`);
    deleteMs.push(performance.now() - t2);
  }
} finally {
  await core.hv.call("pool.destroy", { pool }).catch(() => undefined);
  await core.hv.call("pool.undefine", { pool }).catch(() => undefined);
  await core.close();
}

const rows = {
  "create → running (API, ?wait=true)": stats(createMs),
  "linked-clone overlay (pool API)": stats(overlayMs),
  "delete (API, ?wait=true)": stats(deleteMs),
};
console.log(`VM lifecycle on qemu:///system, ${n} sequential VMs (ms)`);
console.table(
  Object.fromEntries(
    Object.entries(rows).map(([k, v]) => [
      k,
      { min: v.min.toFixed(1), median: v.median.toFixed(1), p99: v.p99.toFixed(1), max: v.max.toFixed(1) },
    ]),
  ),
);
mkdirSync(new URL("results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("results/vm-create.json", import.meta.url),
  JSON.stringify({ at: new Date().toISOString(), rows }, null, 2),
);
process.exit(0);
