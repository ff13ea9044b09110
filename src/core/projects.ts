// Projects as a caller sees them: no table of their own, a project exists while a VM names it (plus default and the caller's own).
import { ownersByVm } from "../db/vm-owners.ts";
import { listVms } from "../db/vms.ts";
import { DEFAULT_PROJECT } from "../patterns.ts";
import { actsAsAdmin, type Caller, projectsOf, sightOf } from "./auth/index.ts";
import type { Core } from "./context.ts";

export interface ProjectView {
  name: string;
  /** How many of its VMs the caller sees (as GET /v1/vms?project=<name> lists them). */
  vms: number;
}

/**
 * The projects the caller may see, by name: those holding a VM the caller sees, with that count; a user
 * limited to projects gets exactly theirs (0 where empty), anyone else default too.
 */
export function listProjects(core: Core, caller: Caller | null): ProjectView[] {
  const allowed = projectsOf(core, caller);
  const counts = new Map<string, number>((allowed ? [...allowed] : [DEFAULT_PROJECT]).map((p) => [p, 0]));
  const owners = actsAsAdmin(core, caller) ? null : ownersByVm(core.db);
  for (const row of listVms(core.db)) {
    const project = row.project ?? DEFAULT_PROJECT;
    if (owners && sightOf(core, caller, owners.get(row.name) ?? null, project) === "none") continue;
    counts.set(project, (counts.get(project) ?? 0) + 1);
  }
  return [...counts]
    .map(([name, vms]) => ({ name, vms }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
