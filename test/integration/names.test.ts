// Hostname VM and network names on real libvirtd: the longest berth accepts (245) is stored, started and found by virsh.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { apiClient } from "../support/api.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-names-${id}`;
const SUBNET = `10.215.${Number(id) % 250}.0/24`;
/** A hostname of exactly `n` characters whose first label is unique to this run. */
function hostname(n: number, first: string): string {
  const labels = [first];
  while (labels.join(".").length < n) {
    const left = n - labels.join(".").length - 1;
    labels.push("x".repeat(Math.min(63, left)));
  }
  return labels.join(".");
}
const NET = hostname(245, `net_${id}`);
const VM = hostname(245, `vm-${id}`);

describe.skipIf(!integrationReady())("hostname names on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    core = await systemCore(POOL);
    api = apiClient(core);
  }, 60_000);

  afterAll(async () => {
    if (!core) return;
    await api.delete(`/v1/vms/${VM}?wait=true`);
    await api.delete(`/v1/networks/${NET}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("a 245-character NAT network starts (dnsmasq's <name>.hostsfile fits); 246 characters are 400", async () => {
    expect(NET).toHaveLength(245);
    const r = await api.post("/v1/networks", { name: NET, mode: "nat", subnet: SUBNET });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: NET, active: true });
    expect(run(["virsh", "-c", SYSTEM_URI, "net-info", NET]).out).toMatch(/Active:\s+yes/);
    const longer = await api.post("/v1/networks", { name: `${NET}x`, mode: "nat", subnet: "10.216.0.0/24" });
    expect(longer.status).toBe(400);
  }, 60_000);

  test("a 245-character VM on it is defined, started and found by virsh under its name; 246 characters are 400", async () => {
    expect(VM).toHaveLength(245);
    const vm = { cpus: 1, memory_mib: 64, root_disk_gb: 1, networks: [NET] };
    const r = await api.post("/v1/vms?wait=true", { ...vm, name: VM });
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 200, error: null });
    expect((await api.get(`/v1/vms/${VM}`)).body.state).toBe("running");
    const dump = run(["virsh", "-c", SYSTEM_URI, "dumpxml", VM]);
    expect(dump.ok).toBe(true);
    expect(dump.out).toContain(`<name>${VM}</name>`);
    expect((await api.post("/v1/vms", { ...vm, name: `${VM}x` })).status).toBe(400);
    expect((await api.delete(`/v1/vms/${VM}?wait=true`)).status).toBe(200);
    expect(run(["virsh", "-c", SYSTEM_URI, "dominfo", VM]).ok).toBe(false);
  }, 120_000);
});
