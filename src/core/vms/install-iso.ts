// Installing an existing, stopped VM from an ISO image: the ISO as its install cdrom, boot from it, start; the install watcher boots it from disk once the installer powers off.
import { disksOf, insertDisk, nicsOf, updateVm } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { Operation } from "../operations.ts";
import { now } from "../time.ts";
import { newDiskSlot } from "./disks.ts";
import { domainState } from "./domain.ts";
import { domainXmlFor } from "./domain-xml.ts";
import { INSTALL_DISK, installPending } from "./install-boot.ts";
import { planVolume } from "./plan.ts";
import { recordState } from "./power.ts";
import { type BootConfig, findVmRow, loadVm, vmTarget } from "./records.ts";

/** Boots the stopped VM `name` from the ISO image `iso` (its disks kept), as `iohyve install` did. */
export async function installFromIso(
  core: Core,
  caller: Caller | null,
  name: string,
  iso: string,
): Promise<Operation> {
  const { vm, unit } = newDiskSlot(core, caller, name, INSTALL_DISK);
  if (installPending(JSON.parse(vm.boot) as BootConfig))
    throw new Conflict(`vm ${name} has an install pending`);
  const plan = planVolume(core, vm.id, unit, { name: INSTALL_DISK, image: iso, media: "cdrom" });
  const stopped = async () => {
    const state = await domainState(core, name);
    if (state !== "shutoff")
      throw new Conflict(`vm ${name} must be stopped to install it (it is ${state ?? "absent"})`);
  };
  await stopped();
  return core.ops.start(
    "vm.install.iso",
    vmTarget(name),
    async () => {
      await stopped();
      const row = findVmRow(core, name);
      const boot: BootConfig = { mode: "iso", iso_image: iso };
      const next = { ...row, boot: JSON.stringify(boot), updated_at: now() };
      const disks = [...disksOf(core.db, row.id), plan.disk];
      await core.hv.call("domain.define", { xml: domainXmlFor(core, next, disks, nicsOf(core.db, row.id)) });
      core.db.transaction(() => {
        insertDisk(core.db, plan.disk);
        updateVm(core.db, row.id, { boot: next.boot, updated_at: next.updated_at });
      })();
      await core.hv.call("domain.create", { name });
      recordState(core, row.id, name, "running");
      core.events.publish("vm.install.started", vmTarget(name), { id: row.id, iso });
      return loadVm(core, name);
    },
    { lock: true },
  );
}
