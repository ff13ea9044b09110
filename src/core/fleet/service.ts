// A fleet host's background work: its registration, releasing names of deleted VMs, settling claims, publishing VM records, dropping VMs recovered elsewhere.
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { publishNode } from "./fence.ts";
import type { Fleet } from "./fleet.ts";
import { resumeFlush } from "./flush.ts";
import { registerHost } from "./members.ts";
import { MAX_MIGRATION_MS } from "./migrate.ts";
import { settleMoves } from "./moves-settle.ts";
import { releaseName, settleNames } from "./names.ts";
import { startFleetPools } from "./pools-service.ts";
import { releaseDeleted, settleQuota } from "./quota.ts";
import { RecordSync } from "./records.ts";
import { dropRecoveredAway } from "./stale.ts";

/** Starts a fleet host's work on `core` (which has `fleet` set); `stop` ends it and leaves the fleet. */
export function startFleet(core: Core, fleet: Fleet): { stop(): Promise<void> } {
  const registration = registerHost(core, fleet);
  void publishNode(fleet).catch((e) => log.warn("fleet: fence address not published", { error: String(e) }));
  // Back after another host recovered VMs of this one: those go before anything could start them here.
  // VMs another host recovered from this one: never published from here again (their record is that host's).
  let away = new Set<string>();
  const dropStale = () =>
    dropRecoveredAway(core, fleet)
      .then((r) => {
        away = r.away;
      })
      .catch((e) => {
        log.warn("fleet: vms recovered elsewhere not dropped yet", { error: String(e) });
      });
  // The first pass runs now; the interval's passes wait for it.
  let busy = true;
  let settling: Promise<unknown> = dropStale().finally(() => {
    busy = false;
  });
  const pools = startFleetPools(core, fleet);
  void resumeFlush(core, fleet).catch((e) =>
    log.warn("this host's flush not resumed", { error: e instanceof Error ? e.message : String(e) }),
  );
  const records = new RecordSync(core, fleet);
  const off = core.events.subscribe((e) => {
    if (e.type !== "vm.deleted") return;
    const vm = e.target.slice("vm/".length);
    // The quota entry after the name: it goes only once no host claims the VM (a migrated VM keeps it).
    void releaseName(fleet, vm)
      .then(() => releaseDeleted(core, fleet, vm))
      .catch((err) =>
        log.warn("fleet name or quota entry not released; reconcile releases it", { vm, error: String(err) }),
      );
  });
  // A claim with no VM behind it is older than two lease periods before it is released: no create takes that long to record its VM.
  const graceMs = 2 * fleet.ttlS * 1000;
  const settle = setInterval(() => {
    // One pass at a time: two passes would finish the same departure twice.
    if (busy) return;
    busy = true;
    // Migrations first: a departure or arrival settled there is not a stray claim for settleNames.
    settling = dropStale()
      .then(() => settleMoves(core, fleet, MAX_MIGRATION_MS))
      .then((m) => {
        if (Object.values(m).some((l) => l.length > 0)) log.info("fleet migrations settled", { ...m });
        return settleNames(core, fleet, graceMs);
      })
      .then((r) => {
        if (r.released.length + r.claimed.length > 0) log.info("fleet names settled", r);
        return settleQuota(core, fleet, graceMs);
      })
      .then((q) => {
        if (q.written.length + q.released.length > 0) log.info("fleet quota ledger settled", q);
        // What other hosts show and recover of this host's VMs if it dies.
        return records.pass(away);
      })
      .catch((e) =>
        log.warn("fleet names not settled", { error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        busy = false;
      });
  }, fleet.ttlS * 1000);
  return {
    async stop() {
      clearInterval(settle);
      off();
      await settling;
      await pools.stop();
      await registration.stop();
      fleet.close();
    },
  };
}
