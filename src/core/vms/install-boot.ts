// What an OS install looks like in a VM's records: the boot modes that install, the ISO disk, the fetched kernel.
import { join } from "node:path";
import type { VmRow } from "../../db/vms.ts";
import type { BootSpec } from "../../xml/domain.ts";
import type { Core } from "../context.ts";
import { poolDir } from "../paths.ts";
import type { BootConfig } from "./records.ts";

/** The name of the cdrom an ISO install boots from; it is detached once the install is done. */
export const INSTALL_DISK = "install";

/** An ISO or network install is pending until the installer powers the guest off. */
export function installPending(boot: BootConfig): boolean {
  return boot.mode === "iso" || boot.mode === "network";
}

/** The pool volumes holding a network install's kernel and initrd; exact names, never a prefix. */
export function installVolumes(vmId: string): { kernel: string; initrd: string } {
  return { kernel: `vm-${vmId}-install-kernel`, initrd: `vm-${vmId}-install-initrd` };
}

/** The install volumes a VM may still have (only a pending network install has any). */
export function installVolumesOf(row: Pick<VmRow, "id" | "boot">): string[] {
  const boot = JSON.parse(row.boot) as BootConfig;
  return boot.mode === "network" ? Object.values(installVolumes(row.id)) : [];
}

/** Direct kernel boot of the installer fetched from the install tree, with the request's cmdline. */
export function installKernelBoot(core: Core, vmId: string, cmdline: string | undefined): BootSpec {
  const v = installVolumes(vmId);
  const dir = poolDir(core.config);
  return { kind: "kernel", kernel: join(dir, v.kernel), initrd: join(dir, v.initrd), cmdline };
}
