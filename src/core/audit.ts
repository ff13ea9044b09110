// Audit lines: the events of checkouts, returns, tokens and deletions, written to the log in one place.
import { log } from "../log.ts";
import type { EventBus } from "./events.ts";

/** The event types that are audited (a return deletes the checked-out VM: vm.deleted). */
export const AUDITED = new Set([
  "pool.checkout",
  "pool.vm.expired",
  "vm.deleted",
  "token.issued",
  "token.revoked",
]);

/** Fields never written to the log, whatever an event carries. */
const SECRET = new Set(["token", "password", "secret"]);

/** Writes an audit line for every audited event on `bus`; returns the unsubscribe. */
export function auditEvents(bus: EventBus): () => void {
  return bus.subscribe((e) => {
    if (!AUDITED.has(e.type)) return;
    const data = Object.fromEntries(Object.entries(e.data).filter(([k]) => !SECRET.has(k)));
    log.info(e.type, { audit: true, event_id: e.id, target: e.target, ...data });
  });
}
