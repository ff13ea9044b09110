// The cloud-init config drive on real libvirtd + QEMU: the tiny guest mounts cidata and sees its key and hostname.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-ci-${id}`;
const KEY = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl berth-it-${id}@cidata`;

describe.skipIf(!integrationReady())("cloud-init config drive on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  const ok = async (p: Promise<{ status: number; body: Json }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };

  beforeAll(async () => {
    buildGuest();
    core = await systemCore(POOL, `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: `ci-tiny-${id}`,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(
      api.post("/v1/profiles", {
        name: `ci-tiny-${id}`,
        cpus: 1,
        memory_mib: 256,
        root_disk_gb: 1,
        boot: { mode: "kernel", kernel_image: `ci-tiny-${id}`, cmdline: GUEST.cmdline },
      }),
      201,
    );
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    for (const vm of (await api.get("/v1/vms")).body ?? []) await api.delete(`/v1/vms/${vm.name}?wait=true`);
    await api.delete(`/v1/profiles/ci-tiny-${id}`);
    await api.delete(`/v1/images/ci-tiny-${id}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("a VM created with an ssh key: the guest mounts the cidata cdrom and prints the key's comment and its hostname", async () => {
    const name = `ci-vm-${id}`;
    const vm = (await ok(api.post("/v1/vms?wait=true", { name, profile: `ci-tiny-${id}`, ssh_keys: [KEY] })))
      .body.result;
    const drive = vm.disks.find((d: Json) => d.name === "cidata");
    expect(drive).toMatchObject({ device: "cdrom", target: "sdb", volume: `vm-${vm.id}-cidata.iso` });
    const log = `${core.config.data_dir}/console/${vm.id}.log`;
    const seen = (line: string) => () => consoleReports(log).includes(line);
    await waitFor(seen(`cidata-key berth-it-${id}@cidata`), 90_000, "the config drive's key in the guest");
    expect(consoleReports(log)).toContain(`cidata-hostname ${name}`);
    await waitFor(
      () => consoleReports(log).some((l) => /^block sr0 \d+$/.test(l)),
      30_000,
      "sr0 in the guest",
    );

    await ok(api.delete(`/v1/vms/${name}?wait=true`));
    const vols = (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    expect(vols).not.toContain(drive.volume);
  }, 150_000);
});
