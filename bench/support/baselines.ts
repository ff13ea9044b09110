// The ways operators provision today, timed the same way as berth: a qemu-img/virsh shell sequence per VM,
// and virt-install with the staging hypervisor agent's arguments. argv arrays only, never a shell string.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDomainXml } from "../../src/xml/domain.ts";
import { SYSTEM_URI } from "../../test/integration/support/env.ts";
import { consoleReports } from "../../test/integration/support/guest.ts";
import type { LibvirtBench } from "./libvirt-env.ts";

async function run(argv: string[], env: Record<string, string> = {}): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [code, out, err] = await Promise.all([
    p.exited,
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err}${out}`);
}

/** A baseline VM: its name, disk and console log (for the `ip` line). */
export interface BaselineVm {
  name: string;
  disk: string;
  log: string;
}

export function baselineVm(b: LibvirtBench, name: string): BaselineVm {
  return { name, disk: join(b.scratch, `${name}.qcow2`), log: join(b.scratch, `${name}.log`) };
}

/** (a) qemu-img create (linked clone) → virsh define → virsh start. */
export async function shellSequence(b: LibvirtBench, vm: BaselineVm): Promise<void> {
  await run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", b.base, "-F", "qcow2", vm.disk]);
  const xmlFile = join(b.scratch, `${vm.name}.xml`);
  writeFileSync(
    xmlFile,
    buildDomainXml({
      name: vm.name,
      type: "qemu",
      vcpus: 1,
      memoryMiB: 256,
      boot: { kind: "kernel", kernel: b.kernel, initrd: b.initrd, cmdline: "console=ttyS0" },
      disks: [{ path: vm.disk, format: "qcow2" }],
      nics: [{ kind: "network", network: b.network }],
      consoleLog: vm.log,
    }),
  );
  await run(["virsh", "-q", "-c", SYSTEM_URI, "define", xmlFile]);
  await run(["virsh", "-q", "-c", SYSTEM_URI, "start", vm.name]);
}

/**
 * (b) virt-install as the staging hypervisor agent runs it: a virtio-scsi controller, a new disk on the
 * SCSI bus (a new 1 GiB volume in the storage pool, as the agent's `disks: [GB]`), the network,
 * --noautoconsole; the tiny guest boots its kernel directly (--import: no installer).
 */
export async function virtInstall(b: LibvirtBench, vm: BaselineVm): Promise<void> {
  await run(
    [
      "virt-install",
      "--connect",
      SYSTEM_URI,
      "--name",
      vm.name,
      "--virt-type",
      "qemu",
      "--memory",
      "256",
      "--vcpus",
      "1",
      "--controller",
      "type=scsi,model=virtio-scsi",
      "--disk",
      `pool=${b.env.core.config.storage.pool},size=1,format=qcow2,bus=scsi`,
      "--network",
      // Without an OS the NIC defaults to e1000; the agent's Ubuntu guests (and the tiny guest) use virtio.
      `network=${b.network},model=virtio`,
      "--import",
      "--boot",
      `kernel=${b.kernel},initrd=${b.initrd},kernel_args=console=ttyS0`,
      "--serial",
      `file,path=${vm.log}`,
      "--graphics",
      "none",
      "--noautoconsole",
    ],
    { VIRTINSTALL_OSINFO_DISABLE_REQUIRE: "1" },
  );
}

/** True once the guest printed its DHCP address on the console. */
export function baselineHasIp(vm: BaselineVm): boolean {
  return consoleReports(vm.log).some((l) => l.startsWith("ip "));
}

/**
 * Destroys and undefines the domain and removes its disk, XML and log; a part already gone is fine.
 * virt-install's disk is a volume of the pool: undefine removes it with the domain.
 */
export function removeBaseline(b: LibvirtBench, vm: BaselineVm): void {
  const quiet = (argv: string[]) => Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
  quiet(["virsh", "-q", "-c", SYSTEM_URI, "destroy", vm.name]);
  quiet(["virsh", "-q", "-c", SYSTEM_URI, "undefine", "--remove-all-storage", vm.name]);
  quiet(["virsh", "-q", "-c", SYSTEM_URI, "undefine", vm.name]);
  for (const f of [vm.disk, vm.log, join(b.scratch, `${vm.name}.xml`)]) rmSync(f, { force: true });
}
