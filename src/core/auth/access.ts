// Roles in core: who the caller acts as (admin, user, anonymous), and the 401/403 of admin-only actions.
import type { Core } from "../context.ts";
import type { Caller } from "./caller.ts";
import { Forbidden, Unauthorized } from "./errors.ts";

/** berth's own work (the scheduler, reconcile, start-up): acts as an admin and owns nothing. */
export const SYSTEM: Caller = Object.freeze({ name: "berth", admin: true, tokenId: null, system: true });

/** With auth off the host is trusted: every request acts as an admin. With auth on, only admin users do. */
export function actsAsAdmin(core: Core, caller: Caller | null): boolean {
  return !core.config.auth.enabled || caller?.admin === true;
}

/** The user name a new object is recorded as owned by: null for berth itself, anonymous or auth off. */
export function ownerNameOf(core: Core, caller: Caller | null): string | null {
  if (!core.config.auth.enabled || !caller || caller.system) return null;
  return caller.name;
}

/** 401 when auth is on and nobody authenticated; the authenticated caller (or null with auth off). */
export function requireCaller(core: Core, caller: Caller | null): Caller | null {
  if (!core.config.auth.enabled) return caller;
  if (!caller) throw new Unauthorized("this needs a token: X-AUTH-TOKEN or Authorization: Bearer");
  return caller;
}

/** Images, sizes, profiles, networks, pools, raw XML and other users' objects: admins only (401/403). */
export function requireAdmin(core: Core, caller: Caller | null, what: string): void {
  if (!core.config.auth.enabled) return;
  const who = requireCaller(core, caller);
  if (!who?.admin) throw new Forbidden(`only an admin may ${what}`);
}
