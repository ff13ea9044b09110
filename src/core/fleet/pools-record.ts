// The holding host's side of a fleet checkout: records the VMs a checkout took in etcd, from the request or from etcd after a crash.
import { retagVm, stampVm } from "../../db/checkout.ts";
import { fleetReadyMembers } from "../../db/fleet-pools.ts";
import { checkOutMember, getMember } from "../../db/pools.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { poolTarget } from "../pools/records.ts";
import { wakeLater } from "../pools/tiers.ts";
import type { Fleet } from "./fleet.ts";
import {
  type CheckoutRecord,
  checkoutKey,
  parsePoolKey,
  poolsPrefix,
  type ReadyValue,
  readPoolEntries,
  readyKey,
  type TakenValue,
  takenKey,
} from "./pools-keys.ts";
import { exclusive } from "./pools-stock.ts";

/** running / restoring: recorded (a paused or saved pool's VM is being woken); lost: its host no longer had it ready. */
export type RecordedStatus = "running" | "restoring" | "lost";

/** A checkout is kept in etcd this long after it was taken when a host never said it recorded its part. */
const RECORD_KEEP_MS = 3_600_000;

/** Moves one taken VM to checked_out with the checkout's lease; a VM already recorded for it stays as is. */
function recordOne(core: Core, vm: string, t: TakenValue): "recorded" | "already" | "lost" {
  const m = getMember(core.db, vm);
  if (m?.status === "checked_out" && m.checked_out_at === t.checked_out_at && m.owner === t.owner)
    return "already";
  if (m?.status !== "ready" || m.vm_id === null || !checkOutMember(core.db, vm, t)) return "lost";
  const before = stampVm(core.db, m.vm_id, t.checked_out_at);
  if (before !== null) {
    const tags = { ...(JSON.parse(before) as Record<string, string>), ...t.tags, pool: t.pool };
    retagVm(core.db, m.vm_id, JSON.stringify(tags));
  }
  core.events.publish("pool.checkout", poolTarget(t.pool), {
    vm,
    owner: t.owner,
    expires_at: t.expires_at,
    checkout: t.checkout,
  });
  return "recorded";
}

/** What became of one taken VM here: its status, and the VM that stands in for it when it was no longer ready. */
export interface Recorded {
  status: RecordedStatus;
  replaced_by?: string;
}

type TakenEntry = { vm: string; value: TakenValue; mod: string };

/**
 * A taken VM this host no longer has ready (drained between the pick and the record): another of its ready
 * VMs of the pool takes its place, in one etcd transaction that moves the taken key to it and withdraws
 * its ready key (so no other checkout can have it); null when none is left.
 */
async function substitute(core: Core, fleet: Fleet, lost: TakenEntry): Promise<TakenEntry | null> {
  for (const m of fleetReadyMembers(core.db)) {
    if (m.pool !== lost.value.pool) continue;
    const ready = readyKey(fleet, m.pool, m.vm_name);
    const kv = (await fleet.etcd.get(ready).exec()).kvs[0];
    if (!kv || (JSON.parse(kv.value.toString()) as ReadyValue).host !== fleet.name) continue;
    const was = takenKey(fleet, lost.value.pool, lost.vm);
    const tx = await fleet.etcd
      .if(was, "Mod", "==", lost.mod)
      .and(ready, "Mod", "==", kv.mod_revision)
      .then(
        fleet.etcd.delete().key(was),
        fleet.etcd.delete().key(ready),
        fleet.etcd.put(takenKey(fleet, m.pool, m.vm_name)).value(JSON.stringify(lost.value)),
      )
      .commit();
    if (tx.succeeded) return { vm: m.vm_name, value: lost.value, mod: tx.header.revision };
  }
  return null;
}

/** Records every taken VM given (all of this host) and drops their taken keys; one at a time with publishing. */
async function recordTaken(core: Core, fleet: Fleet, taken: TakenEntry[]): Promise<Map<string, Recorded>> {
  return exclusive(core, async () => {
    const out = new Map<string, Recorded>();
    const woken: { name: string; pool: string; as: string }[] = [];
    const done: TakenEntry[] = [];
    for (const entry of taken) {
      const { vm, value } = entry;
      const record = (e: TakenEntry) => core.db.transaction(() => recordOne(core, e.vm, value)).immediate();
      let r = record(entry);
      let held = entry;
      if (r === "lost") {
        const sub = await substitute(core, fleet, entry);
        if (sub) {
          held = sub;
          r = record(sub);
          log.warn("a vm a fleet checkout took was no longer ready here; another stands in", {
            vm,
            replaced_by: sub.vm,
            checkout: value.checkout,
          });
        }
      }
      if (r === "lost") {
        log.error("a vm a fleet checkout took was no longer ready here", { vm, checkout: value.checkout });
        out.set(vm, { status: "lost" });
        done.push(entry);
        continue;
      }
      if (r === "recorded") woken.push({ name: held.vm, pool: value.pool, as: vm });
      out.set(vm, { status: "running", ...(held.vm !== vm ? { replaced_by: held.vm } : {}) });
      done.push(held);
    }
    const restoring = wakeLater(core, woken);
    for (const w of woken)
      if (restoring.has(w.name)) out.set(w.as, { ...out.get(w.as), status: "restoring" });
    // Only once SQLite holds them: a taken key is what keeps the VM from being published again.
    for (const { vm, value, mod } of done) {
      const key = takenKey(fleet, value.pool, vm);
      await fleet.etcd
        .if(key, "Mod", "==", mod)
        .then(fleet.etcd.delete().key(key))
        .commit()
        .catch((e) =>
          log.warn("a recorded vm's taken key stays until the next settle", { vm, error: String(e) }),
        );
    }
    return out;
  });
}

/** This host's taken VMs in etcd (of checkout `id`, or of every checkout). */
async function takenHere(fleet: Fleet, id?: string): Promise<TakenEntry[]> {
  const out: TakenEntry[] = [];
  for (const k of await readPoolEntries(fleet, "the fleet checkouts")) {
    if (k.kind !== "taken") continue;
    const value = JSON.parse(k.value) as TakenValue;
    if (value.host !== fleet.name || (id !== undefined && value.checkout !== id)) continue;
    out.push({ vm: k.vm, value, mod: k.mod });
  }
  return out;
}

/** A checkout's VMs of this host, recorded (what the checking-out host asks, signed, right after taking them). */
export async function recordCheckout(
  core: Core,
  fleet: Fleet,
  id: string,
): Promise<{ vms: ({ name: string } & Recorded)[] }> {
  const done = await recordTaken(core, fleet, await takenHere(fleet, id));
  return { vms: [...done].map(([name, r]) => ({ name, ...r })) };
}

/**
 * After a crash (and every lease period): records every VM of this host a checkout took at least `graceMs`
 * ago but this host never recorded, then drops checkout records none of whose VMs is still waiting.
 */
export async function settleTaken(
  core: Core,
  fleet: Fleet,
  graceMs: number,
): Promise<{ recorded: string[] }> {
  // A fresh one is the checking-out host's to have recorded (its answer then says so), unless it is late.
  const taken = (await takenHere(fleet)).filter(
    (t) => !(Date.now() - Date.parse(t.value.checked_out_at) < graceMs),
  );
  const done = taken.length > 0 ? await recordTaken(core, fleet, taken) : new Map<string, Recorded>();
  const records = await fleet.etcd.getAll().prefix(checkoutKey(fleet)).exec();
  const waiting = await fleet.etcd.getAll().prefix(poolsPrefix(fleet)).keys();
  const pending = new Set(
    waiting
      .map((k) => parsePoolKey(fleet, k))
      .filter((k) => k?.kind === "taken")
      .map((k) => k?.vm),
  );
  for (const kv of records.kvs) {
    const rec = JSON.parse(kv.value.toString()) as CheckoutRecord;
    const old = Date.now() - Date.parse(rec.at) > RECORD_KEEP_MS;
    if (!old && rec.vms.some((v) => pending.has(v.name))) continue;
    if (!old && rec.vms.some((v) => v.host === fleet.name) === false) continue; // its own hosts drop it
    await fleet.etcd.if(kv.key, "Mod", "==", kv.mod_revision).then(fleet.etcd.delete().key(kv.key)).commit();
  }
  return {
    recorded: [...done].filter(([, r]) => r.status !== "lost").map(([vm, r]) => r.replaced_by ?? vm),
  };
}
