// Per-user quota of checked-out VMs ([auth] max_running_vms_per_user), checked by checkout.
import { countOwnedVms } from "../../db/vm-owners.ts";
import type { Core } from "../context.ts";
import type { Caller } from "./caller.ts";
import { QuotaExceeded } from "./errors.ts";

/**
 * 403 quota_exceeded when `user` would hold more than the quota after taking `adding` more VMs.
 * Synchronous, so checkout can call it inside its SQLite transaction and no race slips past it.
 * Anonymous checkouts (no user) and a quota of 0 are unlimited.
 */
export function checkQuota(core: Core, user: Caller | string | null, adding = 1): void {
  const max = core.config.auth.max_running_vms_per_user;
  const name = typeof user === "string" ? user : user?.name;
  if (max === 0 || !name) return;
  const held = countOwnedVms(core.db, name);
  if (held + adding > max) {
    throw new QuotaExceeded(
      `user ${name} holds ${held} of at most ${max} VMs and cannot take ${adding} more`,
      { user: name, held, max, requested: adding },
    );
  }
}
