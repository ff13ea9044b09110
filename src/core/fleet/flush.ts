// Flushing a host (PVC's node flush): placement skips it and its VMs migrate to other hosts, live when running.
import { getMember } from "../../db/pools.ts";
import { listVms } from "../../db/vms.ts";
import { log } from "../../log.ts";
import { SYSTEM } from "../auth/access.ts";
import type { Caller } from "../auth/caller.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import { domainStates, markFlushed, placeableHosts, setDomainState } from "./domain-state.ts";
import type { Fleet } from "./fleet.ts";
import { fleetRequest } from "./forward.ts";
import { liveHosts } from "./members.ts";
import { migrateVm } from "./migrate.ts";
import { placeVm } from "./placement.ts";

/** Flushes in progress on this host, so a second flush does not start a second drain. */
const draining = new WeakMap<Fleet, Promise<void>>();

/**
 * The VMs a flush moves: every recorded VM but a pool's stock (a pool's ready and pending VMs belong to this
 * host's pool, which refills here; checked-out pool VMs are users' VMs and move).
 */
function movable(core: Core): string[] {
  return listVms(core.db)
    .filter((v) => v.status !== "gone" && v.status !== "creating")
    .filter((v) => {
      const m = getMember(core.db, v.name);
      return m === null || m.status === "checked_out";
    })
    .map((v) => v.name);
}

/** Migrates this host's movable VMs one at a time to the least allocated placeable host; then marks it flushed. */
async function drain(core: Core, fleet: Fleet, caller: Caller | null): Promise<void> {
  for (const name of movable(core)) {
    // An unflush (or anything but flush) meanwhile ends the drain.
    if ((await domainStates(fleet)).get(fleet.name) !== "flush") return;
    try {
      const hosts = await placeableHosts(fleet);
      hosts.delete(fleet.name);
      if (hosts.size === 0) {
        log.warn("flush: no other host to move VMs to", { host: fleet.name });
        return;
      }
      // PVC's flush remembered where each VM came from, so unflush could bring it back.
      await operationFinished(
        core.ops,
        await migrateVm(core, caller, name, { host: placeVm(hosts, {}) }, "set"),
      );
    } catch (e) {
      log.warn("flush: vm not moved", { vm: name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (movable(core).length === 0) await markFlushed(fleet, fleet.name);
}

/** Marks this host flushed in etcd at once and drains it in the background (PVC's flush returned immediately). */
export async function flushHost(core: Core, fleet: Fleet, caller: Caller | null): Promise<void> {
  await setDomainState(fleet, fleet.name, "flush");
  if (draining.has(fleet)) return;
  const run = drain(core, fleet, caller)
    .catch((e) => log.warn("flush did not finish", { error: e instanceof Error ? e.message : String(e) }))
    .finally(() => draining.delete(fleet));
  draining.set(fleet, run);
}

/** At start: a flush this host had not finished (berth stopped mid-drain) goes on, as berth's own work. */
export async function resumeFlush(core: Core, fleet: Fleet): Promise<void> {
  if ((await domainStates(fleet)).get(fleet.name) !== "flush") return;
  // One lease period first: this host registered, its VMs' states read, the other hosts seen live.
  await Bun.sleep(fleet.ttlS * 1000);
  log.info("resuming this host's flush", { host: fleet.name });
  await flushHost(core, fleet, SYSTEM);
}

/**
 * Ready again: placement may choose this host, and every other live host sends back the VMs that left it
 * (their last_node is this host), as PVC's unflush restored migrated VMs; in the background, best effort.
 */
export async function unflushHost(fleet: Fleet): Promise<void> {
  await setDomainState(fleet, fleet.name, "ready");
  const others = [...(await liveHosts(fleet)).values()].filter((h) => h.name !== fleet.name);
  for (const h of others) {
    void fleetRequest(fleet, h, "POST", `/v1/fleet/returns/${encodeURIComponent(fleet.name)}`)
      .then(async (r) => {
        if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
      })
      .catch((e) =>
        log.warn("unflush: a host was not asked to send VMs back", { host: h.name, error: String(e) }),
      );
  }
}

/** This host's VMs whose last_node is `to`: migrated back there one at a time (live when running), last_node cleared. */
export function returnVms(core: Core, to: string): string[] {
  const names = listVms(core.db)
    .filter((v) => v.last_host === to && v.status !== "gone")
    .map((v) => v.name);
  void (async () => {
    for (const name of names) {
      try {
        await operationFinished(core.ops, await migrateVm(core, SYSTEM, name, { host: to }, "clear"));
      } catch (e) {
        log.warn("unflush: vm not sent back", {
          vm: name,
          to,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  })();
  return names;
}

/** This host's drain, for a caller (tests, shutdown) that must wait for it. */
export function flushing(fleet: Fleet): Promise<void> | undefined {
  return draining.get(fleet);
}
