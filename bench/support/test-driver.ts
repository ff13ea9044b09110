// berth on libvirt's test driver for load benchmarks: a config, and a profile whose VMs have 1 MiB root disks.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpClient } from "./http.ts";

/**
 * The test driver charges each volume's capacity against a fixed 100 GiB pool, so 1 GiB root disks stop at
 * ~100 VMs. A VM made from a disk image gets a root overlay of the image's size when the profile names no
 * root_disk_gb: a 1 MiB image allows ~100 000 VMs.
 */
export function testDriverToml(opts: { uri?: string; workers?: number; extra?: string } = {}): string {
  return [
    "[hypervisor]",
    `uri = "${opts.uri ?? "test:///default"}"`,
    opts.workers ? `workers = ${opts.workers}` : "",
    "[network]",
    "manage_bridges = false",
    "[storage]",
    'pool = "bench-store"',
    // seedTinyProfile imports its image from a fresh directory under tmpdir().
    "[images]",
    `import_dirs = [${JSON.stringify(tmpdir())}]`,
    "[scheduler]",
    "max_concurrent_creates = 64",
    "interval_s = 1",
    // The test driver's host is fictional (16 CPUs, 3 GiB): thousands of 64 MiB VMs need room beyond it.
    "[capacity]",
    "vcpu_overcommit = 1000",
    "memory_overcommit = 100",
    opts.extra ?? "",
  ].join("\n");
}

/** Imports a 1 MiB qcow2 image and a profile using it (1 vCPU, 64 MiB, no networks); returns the profile name. */
export async function seedTinyProfile(api: HttpClient, tag = "bench"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-img-"));
  const file = join(dir, "tiny.qcow2");
  const r = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", file, "1M"], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`qemu-img create: ${r.stderr.toString()}`);
  await api.expect("POST", "/v1/images?wait=true", 200, { name: `${tag}-img`, kind: "disk", path: file });
  await api.expect("POST", "/v1/profiles", 201, {
    name: `${tag}-tiny`,
    image: `${tag}-img`,
    cpus: 1,
    memory_mib: 64,
  });
  return `${tag}-tiny`;
}

/** Polls GET /v1/pools/{pool} until `ready` VMs are ready; returns the ms it took. */
export async function waitPoolReady(api: HttpClient, pool: string, ready: number, timeoutMs = 300_000) {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const counts = (await api.expect("GET", `/v1/pools/${pool}`, 200)).body.counts;
    if (counts.ready >= ready) return performance.now() - t0;
    await Bun.sleep(50);
  }
  throw new Error(`pool ${pool} did not reach ${ready} ready VMs within ${timeoutMs} ms`);
}
