// PATCH of a VM: tags, description and project at any time; vCPUs and memory only while it is stopped.

import { disksOf, nicsOf, setVmShape, updateVm } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import { assertVmActor, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { setVmLifetime } from "../pools/checkout.ts";
import { now } from "../time.ts";
import { domainState } from "./domain.ts";
import { domainXmlFor } from "./domain-xml.ts";
import { checkMove } from "./project.ts";
import { findVmRow, loadVm, refuseRawXml, type Vm, vmTarget } from "./records.ts";
import { checkReshape } from "./reshape.ts";

export interface UpdateVmRequest {
  tags?: Record<string, string>;
  description?: string;
  cpus?: number;
  memory_mib?: number;
  /** Checked-out pool VMs only: hours from checkout, within the pool's max_lifetime. */
  lifetime?: number;
  /** Moves it to this project (checkMove's rules). */
  project?: string;
}

export async function updateVmSettings(
  core: Core,
  caller: Caller | null,
  name: string,
  req: UpdateVmRequest,
): Promise<Vm> {
  assertVmActor(core, caller, name);
  const row = findVmRow(core, name);
  if (req.project !== undefined) checkMove(core, caller, row, req.project);
  core.locks.ensureFree(vmTarget(name));
  const at = now();
  if (req.lifetime !== undefined) setVmLifetime(core, name, req.lifetime);
  if (req.cpus !== undefined || req.memory_mib !== undefined) {
    refuseRawXml(row, "change cpus or memory");
    const state = await domainState(core, name);
    if (state !== "shutoff") {
      throw new Conflict(
        `vm ${name} must be stopped to change cpus or memory (it is ${state ?? row.status})`,
      );
    }
    const next = { ...row, vcpus: req.cpus ?? row.vcpus, memory_mib: req.memory_mib ?? row.memory_mib };
    await checkReshape(core, row, next, `vm ${name}`);
    // Redefining with the same name and UUID replaces the persistent definition.
    await core.hv.call("domain.define", {
      xml: domainXmlFor(core, next, disksOf(core.db, row.id), nicsOf(core.db, row.id)),
    });
    setVmShape(core.db, row.id, next.vcpus, next.memory_mib, at);
  }
  updateVm(core.db, row.id, {
    ...(req.tags !== undefined ? { tags: JSON.stringify(req.tags) } : {}),
    ...(req.description !== undefined ? { description: req.description } : {}),
    ...(req.project !== undefined ? { project: req.project } : {}),
    updated_at: at,
  });
  core.events.publish("vm.updated", vmTarget(name), { fields: Object.keys(req) });
  return loadVm(core, name);
}
