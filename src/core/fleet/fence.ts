// Fencing a dead host at Ceph before its VMs start elsewhere: `ceph osd blocklist add` of its address, lifted by that host once it is back and has dropped them.
import { Conflict } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { rbdBackend, rbdSettings } from "../storage/rbd.ts";
import { runCeph } from "../storage/rbd-cli.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";

/** A fence as etcd keeps it until the fenced host lifts it. */
export interface FenceRecord {
  address: string;
  by: string;
  at: string;
}

/** Longer than any outage a recovery answers: a fence that is never lifted still ends (Ceph drops the entry). */
export const FENCE_EXPIRE_S = 7 * 24 * 3600;

/** Ceph's entity address for every client of one IP (port 0, nonce 0): `profile rbd` may add it, and it blocks all of that host's clients. */
export function blocklistEntry(address: string): string {
  return address.includes(":") ? `[${address}]:0/0` : `${address}:0/0`;
}

/** Publishes what another host needs to fence this one after it died (no lease: it must outlive the host). */
export async function publishNode(fleet: Fleet): Promise<void> {
  await fleet.etcd
    .put(fleet.nodeKey(fleet.name))
    .value(JSON.stringify({ fence_address: fleet.fenceAddress }));
}

async function fenceAddressOf(fleet: Fleet, host: string): Promise<string> {
  const raw = await fleet.etcd
    .get(fleet.nodeKey(host))
    .string()
    .catch((e) => {
      throw new FleetUnavailable(`cannot read host ${host}'s fence address: etcd is not reachable`, {
        cause: e,
      });
    });
  const address = raw === null ? "" : ((JSON.parse(raw) as { fence_address?: string }).fence_address ?? "");
  if (address === "")
    throw new Conflict(
      `host ${host} never published a fence address ([fleet] fence_address): it cannot be fenced`,
    );
  return address;
}

/** Blocklists every Ceph client of dead host `host` (its QEMUs' librbd) and records the fence for that host to lift. */
export async function fenceHost(core: Core, fleet: Fleet, host: string): Promise<FenceRecord> {
  if (!rbdBackend(core.config))
    throw new Conflict(
      `host ${fleet.name} has no [storage] backend = "rbd": it cannot fence host ${host} at Ceph`,
    );
  const fence: FenceRecord = {
    address: await fenceAddressOf(fleet, host),
    by: fleet.name,
    at: new Date().toISOString(),
  };
  // Recorded first: a fence that exists at Ceph is always one the fenced host will find and lift.
  await fleet.etcd.put(fleet.fenceKey(host)).value(JSON.stringify(fence));
  await runCeph(rbdSettings(core.config), [
    "osd",
    "blocklist",
    "add",
    blocklistEntry(fence.address),
    String(FENCE_EXPIRE_S),
  ]);
  log.warn("fleet: host fenced at ceph", { host, address: fence.address });
  return fence;
}

/**
 * Lifts this host's own fence (call only once it has dropped every VM recovered away from it): `ceph osd
 * blocklist rm`, which needs `allow command "osd blocklist"` beside `profile rbd` in the user's mon caps.
 * Without it the fence stays until FENCE_EXPIRE_S and this says so. True when no fence is left.
 */
const reported = new Set<string>();

export async function liftOwnFence(core: Core, fleet: Fleet): Promise<boolean> {
  const key = fleet.fenceKey(fleet.name);
  const kv = (await fleet.etcd.get(key).exec()).kvs[0];
  if (!kv) return true;
  const fence = JSON.parse(kv.value.toString()) as FenceRecord;
  try {
    await runCeph(rbdSettings(core.config), ["osd", "blocklist", "rm", blocklistEntry(fence.address)]);
  } catch (e) {
    // Said once per fence: the settle pass tries again every lease period.
    if (reported.has(kv.mod_revision)) return false;
    reported.add(kv.mod_revision);
    log.error("fleet: this host's ceph fence could not be lifted; it ends on its own", {
      address: fence.address,
      by: fence.by,
      expires_after_s: FENCE_EXPIRE_S,
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
  await fleet.etcd.if(key, "Mod", "==", kv.mod_revision).then(fleet.etcd.delete().key(key)).commit();
  log.warn("fleet: this host's ceph fence lifted", { address: fence.address, by: fence.by });
  return true;
}
