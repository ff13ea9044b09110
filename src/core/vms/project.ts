// Moving a VM to another project: its owner or an admin, only into a project the caller may use; pool VMs stay in default.
import { getMember } from "../../db/pools.ts";
import type { VmRow } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { assertProject, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";

/**
 * Checks a move of `row` into `project` before anything changes: 400 for a bad name, 403 forbidden
 * naming the project outside a limited caller's projects, 409 for a pool's VM (pools are not
 * project-scoped: their VMs stay in default). The caller must already be the VM's actor.
 */
export function checkMove(core: Core, caller: Caller | null, row: VmRow, project: string): void {
  checkName("project", project);
  if (project === (row.project ?? DEFAULT_PROJECT)) return;
  assertProject(core, caller, project, "move VMs into it");
  const member = getMember(core.db, row.name);
  if (member) {
    throw new Conflict(
      `vm ${row.name} belongs to pool ${member.pool}: pool VMs stay in project ${DEFAULT_PROJECT}`,
    );
  }
}
