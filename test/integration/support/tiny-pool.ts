import { dirname } from "node:path";
import { apiClient } from "../../support/api.ts";
import type { Json } from "../../support/http.ts";
import { buildGuest, GUEST } from "./guest.ts";
import { type SystemCore, systemCore } from "./system-core.ts";

export interface TinyPoolEnv {
  core: SystemCore;
  api: ReturnType<typeof apiClient>;
  profile: string;
  network: string;
  /** Deletes the pools, VMs, profile, network, image and storage pool it made, then closes the core. */
  teardown(): Promise<void>;
}

async function ok(p: Promise<{ status: number; body: Json }>, want: number): Promise<Json> {
  const r = await p;
  if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * `tag` names everything it creates; `subnet` must not clash with other runs' NAT networks. Tests run
 * with 2 hypervisor Workers (light on a 2-core machine); benchmarks pass berth's default.
 */
export async function tinyPoolEnv(
  tag: string,
  subnet: string,
  extraToml = "",
  opts: { workers?: number; importDirs?: string[] } = {},
): Promise<TinyPoolEnv> {
  buildGuest();
  const storage = `berth-it-${tag}`;
  // The guest's directory, and the caller's, are where path imports may read.
  const dirs = JSON.stringify([dirname(GUEST.kernel), ...(opts.importDirs ?? [])]);
  const core = await systemCore(storage, `[images]\nimport_dirs = ${dirs}\n${extraToml}`, opts.workers);
  const api = apiClient(core);
  const image = `${tag}-k`;
  const network = `${tag}-nat`;
  const profile = `${tag}-p`;
  await ok(
    api.post("/v1/images?wait=true", {
      name: image,
      kind: "kernel",
      kernel: { path: GUEST.kernel },
      initrd: { path: GUEST.initrd },
    }),
    200,
  );
  await ok(api.post("/v1/networks", { name: network, mode: "nat", subnet }), 201);
  await ok(
    api.post("/v1/profiles", {
      name: profile,
      cpus: 1,
      memory_mib: 256,
      root_disk_gb: 1,
      networks: [network],
      boot: { mode: "kernel", kernel_image: image, cmdline: GUEST.cmdline },
    }),
    201,
  );
  return {
    core,
    api,
    profile,
    network,
    async teardown() {
      for (const p of (await api.get("/v1/pools")).body ?? []) await api.delete(`/v1/pools/${p.name}`);
      for (const vm of (await api.get("/v1/vms")).body ?? [])
        await api.delete(`/v1/vms/${vm.name}?wait=true`);
      await api.delete(`/v1/profiles/${profile}`);
      await api.delete(`/v1/networks/${network}`);
      await api.delete(`/v1/images/${image}`);
      await core.hv.call("pool.destroy", { pool: storage }).then(
        () => core.hv.call("pool.undefine", { pool: storage }),
        (e) => e,
      );
      await core.close();
    },
  };
}
