// Per-user quotas over every VM a user owns (created or checked out): count, vCPUs, memory, disk ([auth] max_*_per_user).
import { usageOf } from "../../db/vm-owners.ts";
import type { Core } from "../context.ts";
import { heldElsewhere } from "../fleet/quota-cache.ts";
import type { Caller } from "./caller.ts";
import { QuotaExceeded } from "./errors.ts";

/** What a user holds, or is about to add. */
export interface Usage {
  vms: number;
  vcpus: number;
  memory_mib: number;
  disk_bytes: number;
}

const GiB = 1024 ** 3;

/** The limits in force, each 0 for unlimited; max_running_vms_per_user is the older name of max_vms_per_user. */
export function quotaLimits(core: Core): Usage {
  const a = core.config.auth;
  const counts = [a.max_vms_per_user, a.max_running_vms_per_user].filter((n) => n > 0);
  return {
    vms: counts.length > 0 ? Math.min(...counts) : 0,
    vcpus: a.max_vcpus_per_user,
    memory_mib: a.max_memory_mib_per_user,
    disk_bytes: a.max_disk_gb_per_user * GiB,
  };
}

const WHAT: Record<keyof Usage, string> = {
  vms: "VMs",
  vcpus: "vCPUs",
  memory_mib: "MiB of memory",
  disk_bytes: "bytes of disk",
};

/**
 * 403 quota_exceeded when `user` would hold more than a limit after adding `adding` (a number: that many
 * VMs). Synchronous, so checkout calls it inside its SQLite transaction (after its moves, with `{}`, it
 * checks what the user now holds). Anonymous callers, berth itself and limits of 0 are unlimited.
 */
export function checkQuota(
  core: Core,
  user: Caller | string | null,
  adding: Partial<Usage> | number = 1,
): void {
  const name = quotaSubject(core, user);
  if (name === null) return;
  const add: Usage = {
    vms: 0,
    vcpus: 0,
    memory_mib: 0,
    disk_bytes: 0,
    ...(typeof adding === "number" ? { vms: adding } : adding),
  };
  // In a fleet, the user's VMs on other hosts as last read from etcd count too (a create reserves strictly).
  const here = usageOf(core.db, name);
  const there = heldElsewhere(core, name);
  const held: Usage = {
    vms: here.vms + there.vms,
    vcpus: here.vcpus + there.vcpus,
    memory_mib: here.memory_mib + there.memory_mib,
    disk_bytes: here.disk_bytes + there.disk_bytes,
  };
  assertWithin(core, name, held, add);
}

/** The user name quotas apply to, or null: auth off, berth itself, anonymous, or every limit 0. */
export function quotaSubject(core: Core, user: Caller | string | null): string | null {
  if (!core.config.auth.enabled) return null;
  if (typeof user === "object" && user?.system) return null;
  const name = typeof user === "string" ? user : user?.name;
  if (!name) return null;
  if (Object.values(quotaLimits(core)).every((m) => m === 0)) return null;
  return name;
}

/** 403 quota_exceeded when `held` plus `add` passes one of the limits in force. */
export function assertWithin(core: Core, name: string, held: Usage, add: Usage): void {
  const max = quotaLimits(core);
  for (const k of Object.keys(WHAT) as (keyof Usage)[]) {
    if (max[k] === 0 || held[k] + add[k] <= max[k]) continue;
    throw new QuotaExceeded(
      `user ${name} holds ${held[k]} of at most ${max[k]} ${WHAT[k]} and cannot take ${add[k]} more`,
      { user: name, quota: k, held: held[k], max: max[k], requested: add[k] },
    );
  }
}
