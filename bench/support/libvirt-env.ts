// berth on real libvirtd for the provisioning benchmarks: the integration suite's tiny guest, daemons and
// NAT network, plus a base disk image so berth's VMs get a linked clone like the shell baseline's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { integrationReady } from "../../test/integration/support/env.ts";
import { type TinyPoolEnv, tinyPoolEnv } from "../../test/integration/support/tiny-pool.ts";

/** berth's default hypervisor Worker count, which the benchmarks on real libvirtd run with. */
export const DEFAULT_WORKERS = parseConfig("", "defaults").hypervisor.workers;

export interface LibvirtBench {
  env: TinyPoolEnv;
  /** Profile: 1 vCPU, 256 MiB, root = linked clone of `base`, kernel boot of the tiny guest, the NAT network. */
  profile: string;
  network: string;
  /** Imported image paths (inside berth's pool, readable by QEMU). */
  base: string;
  kernel: string;
  initrd: string;
  /** A directory QEMU can reach, for the baselines' disks and console logs. */
  scratch: string;
  teardown(): Promise<void>;
}

/** Fails with the reason when libvirtd/OVS/root are missing (a benchmark has nothing to skip to). */
export function requireLibvirt(): void {
  if (!integrationReady()) throw new Error("this benchmark needs root, a running libvirtd and Open vSwitch");
}

export async function libvirtBench(tag: string, subnet: string, extraToml = ""): Promise<LibvirtBench> {
  requireLibvirt();
  // berth's default Worker count, as an installed berth runs (the tests use 2).
  // The base image is made outside berth's data directory, from which berth never imports.
  const srcDir = mkdtempSync(join(tmpdir(), "berth-bench-src-"));
  const env = await tinyPoolEnv(tag, subnet, `[network]\novs_datapath = "netdev"\n${extraToml}`, {
    workers: DEFAULT_WORKERS,
    importDirs: [srcDir],
  });
  const { api } = env;
  const scratch = join(env.core.config.data_dir, "baseline");
  Bun.spawnSync(["mkdir", "-m", "0755", "-p", scratch]);
  const src = join(srcDir, "base-src.qcow2");
  const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", src, "1G"], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`qemu-img create: ${made.stderr.toString()}`);
  const image = `${tag}-base`;
  const imported = await api.post("/v1/images?wait=true", { name: image, kind: "disk", path: src });
  if (imported.status !== 200) throw new Error(`image import: ${JSON.stringify(imported.body)}`);
  rmSync(srcDir, { recursive: true });
  const kernel = (await api.get(`/v1/images/${tag}-k`)).body;
  const profile = `${tag}-pc`;
  const p = await api.post("/v1/profiles", {
    name: profile,
    image,
    cpus: 1,
    memory_mib: 256,
    networks: [env.network],
    boot: { mode: "kernel", kernel_image: `${tag}-k`, cmdline: "console=ttyS0" },
  });
  if (p.status !== 201) throw new Error(`profile: ${JSON.stringify(p.body)}`);
  return {
    env,
    profile,
    network: env.network,
    base: imported.body.result.path,
    kernel: kernel.path,
    initrd: kernel.initrd_path,
    scratch,
    async teardown() {
      await api.delete(`/v1/profiles/${profile}`);
      await env.teardown(); // VMs, the kernel profile, network, kernel image, storage pool
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
