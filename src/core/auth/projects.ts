// Which projects a user may use: [[auth.users]] projects (absent: any; admins and berth itself: any), and the 403 outside them.
import type { AuthUser } from "../../config/schema.ts";
import type { Core } from "../context.ts";
import type { Caller } from "./caller.ts";
import { Forbidden } from "./errors.ts";
import { usersOf } from "./users.ts";

const sets = new WeakMap<AuthUser, ReadonlySet<string>>();

/**
 * The projects `user` (a caller, or a user name as pools record owners) is limited to, or null for any
 * project: auth off, anonymous callers, berth itself, admins, users without `projects`, unknown names.
 */
export function projectsOf(core: Core, user: Caller | string | null): ReadonlySet<string> | null {
  if (!core.config.auth.enabled || user === null) return null;
  if (typeof user === "object" && (user.system || user.admin)) return null;
  const found = usersOf(core.config).get(typeof user === "string" ? user : user.name);
  if (!found || found.admin || found.projects === undefined) return null;
  let set = sets.get(found);
  if (!set) {
    set = new Set(found.projects);
    sets.set(found, set);
  }
  return set;
}

/** Whether `user` may use `project` (exact name). */
export function mayUseProject(core: Core, user: Caller | string | null, project: string): boolean {
  const allowed = projectsOf(core, user);
  return allowed === null || allowed.has(project);
}

/** 403 forbidden naming the project when `user` is limited to other projects; `what` ("create VMs in it") says what was refused. */
export function assertProject(core: Core, user: Caller | string | null, project: string, what: string): void {
  const allowed = projectsOf(core, user);
  if (allowed === null || allowed.has(project)) return;
  const name = typeof user === "string" ? user : (user as Caller).name;
  throw new Forbidden(
    `project ${project} is not open to user ${name} (their projects: ${[...allowed].join(", ")}), so they may not ${what}`,
  );
}
