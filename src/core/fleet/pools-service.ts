// A fleet host's pool work: publishes its ready VMs of fleet pools, and records what checkouts took here (also after a crash).
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import type { Fleet } from "./fleet.ts";
import { settleTaken } from "./pools-record.ts";
import { fleetRequestsPass, fulfillFleetRequestsSoon } from "./pools-requests.ts";
import { exclusive, StockLease, syncStock } from "./pools-stock.ts";

/** A burst of pool events is published as one sync this long after the first. */
const DEBOUNCE_MS = 50;

/** Longer than a checking-out host waits for a record (10 s): a taken VM this old was not recorded by its request. */
const SETTLE_GRACE_MS = 15_000;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function startFleetPools(core: Core, fleet: Fleet): { stop(): Promise<void> } {
  const lease = new StockLease(fleet);
  let stopped = false;
  let queued: ReturnType<typeof setTimeout> | null = null;
  let last: Promise<unknown> = Promise.resolve();
  const sync = () => {
    queued = null;
    if (stopped) return;
    last = exclusive(core, async () => syncStock(core, fleet, await lease.id())).catch((e) =>
      log.warn("fleet pool stock not published", { error: errText(e) }),
    );
  };
  const soon = () => {
    queued ??= setTimeout(sync, DEBOUNCE_MS);
  };
  const settle = (graceMs: number) => {
    if (stopped) return;
    last = settleTaken(core, fleet, graceMs)
      .then((r) => {
        if (r.recorded.length > 0) log.info("fleet checkouts settled from etcd", r);
        soon();
      })
      .catch((e) => log.warn("fleet checkouts not settled", { error: errText(e) }));
  };
  // First what checkouts took while this host was away, then its stock (a taken VM is never published again).
  settle(0);
  // Pending fleet requests: tried when one is made or a VM here turns ready, and every third of a lease period (other hosts' stock).
  const fulfil = () => {
    if (!stopped) void fulfillFleetRequestsSoon(core, fleet);
  };
  const off = core.events.subscribe((e) => {
    if (e.type.startsWith("pool.")) soon();
    if (e.type === "pool.request.created" || e.type === "pool.vm.ready") fulfil();
  });
  const publishTimer = setInterval(
    () => {
      sync();
      fulfil();
    },
    Math.max(500, (fleet.ttlS * 1000) / 3),
  );
  // Later, only what the checking-out host had its chance to record: else both record it, and its answer cannot say so.
  const settleTimer = setInterval(() => settle(SETTLE_GRACE_MS), fleet.ttlS * 1000);
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      off();
      clearInterval(publishTimer);
      clearInterval(settleTimer);
      if (queued) clearTimeout(queued);
      await last;
      await fleetRequestsPass(core); // the pass in flight, if any
      await exclusive(core, async () => {}); // every sync and record in flight is done
      await lease.revoke().catch((e) => log.warn("fleet stock lease not revoked", { error: errText(e) }));
    },
  };
}
