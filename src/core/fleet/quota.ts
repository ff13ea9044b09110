// The fleet's quota ledger in etcd: one key per owned VM, so a user's quota holds across hosts (a create reserves in a transaction).
import { arrivalOf } from "../../db/fleet-moves.ts";
import { chargesOfVms, type VmCharge } from "../../db/vm-charges.ts";
import { usageOf } from "../../db/vm-owners.ts";
import { vmByName } from "../../db/vms.ts";
import { log } from "../../log.ts";
import type { Caller } from "../auth/caller.ts";
import { assertWithin, quotaSubject, type Usage } from "../auth/quota.ts";
import type { Core } from "../context.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import type { NameClaim } from "./names.ts";
import { type Charge, forgetReserved, noteHeldElsewhere, noteReserved, ownersOf } from "./quota-cache.ts";

/** A ledger entry: what one VM charges its owner, the host that wrote it, and when. */
interface Entry {
  vcpus: number;
  memory_mib: number;
  disk_bytes: number;
  host: string;
  at: string;
}

const ATTEMPTS = 25;

function fleetDown(what: string, cause: unknown): FleetUnavailable {
  return new FleetUnavailable(`${what}: etcd is not reachable`, { cause });
}

function zero(): Usage {
  return { vms: 0, vcpus: 0, memory_mib: 0, disk_bytes: 0 };
}

function addTo(u: Usage, e: Charge): void {
  u.vms += 1;
  u.vcpus += e.vcpus;
  u.memory_mib += e.memory_mib;
  u.disk_bytes += e.disk_bytes;
}

/**
 * Reserves `vm`'s charge for `owner` fleet-wide: reads the owner's ledger, checks what other hosts hold (entries of
 * VMs this host has no row for) plus this host's own rows plus `charge` against the quota (403 quota_exceeded), and
 * writes the entry in one etcd transaction that also bumps the ledger's head, compared by the revision read. Two
 * creates on two hosts therefore cannot both pass: the second's transaction fails and it checks again. Returns the
 * undo for a create that then fails; a no-op on a single host or when no quota applies to `owner`.
 */
export async function reserveQuota(
  core: Core,
  owner: Caller | string | null,
  vm: string,
  charge: Charge,
): Promise<() => Promise<void>> {
  const fleet = core.fleet;
  const name = quotaSubject(core, owner);
  if (!fleet || name === null) return async () => {};
  const head = fleet.quotaKey(name);
  const entry = JSON.stringify({ ...charge, host: fleet.name, at: new Date().toISOString() } satisfies Entry);
  for (let i = 0; i < ATTEMPTS; i++) {
    const read = await fleet.etcd
      .getAll()
      .prefix(head)
      .exec()
      .catch((e) => {
        throw fleetDown(`cannot read the quota ledger of ${name}`, e);
      });
    let headRev = "0";
    const there = zero();
    const seen = new Map<string, Charge>();
    // Synchronous from here to the check: an entry whose VM has a row here is counted once, from the row.
    for (const kv of read.kvs) {
      const key = kv.key.toString();
      if (key === head) {
        headRev = kv.mod_revision;
        continue;
      }
      const other = key.slice(head.length);
      if (other === vm) continue;
      const e = JSON.parse(kv.value.toString()) as Entry;
      seen.set(other, e);
      if (vmByName(core.db, other) === null) addTo(there, e);
    }
    noteHeldElsewhere(core, new Map([[name, seen]]), name);
    const here = usageOf(core.db, name);
    assertWithin(
      core,
      name,
      {
        vms: here.vms + there.vms,
        vcpus: here.vcpus + there.vcpus,
        memory_mib: here.memory_mib + there.memory_mib,
        disk_bytes: here.disk_bytes + there.disk_bytes,
      },
      { vms: 1, ...charge },
    );
    const tx = await fleet.etcd
      .if(head, "Mod", "==", headRev)
      .then(fleet.etcd.put(head).value(entry), fleet.etcd.put(fleet.quotaKey(name, vm)).value(entry))
      .commit()
      .catch((e) => {
        throw fleetDown(`cannot reserve ${vm} in the quota ledger of ${name}`, e);
      });
    if (tx.succeeded) {
      noteReserved(core, name, vm, charge);
      return () => {
        forgetReserved(core, name, vm);
        return releaseQuietly(fleet, name, vm);
      };
    }
    // Another reservation of this owner came first: read again, with a little jitter so two hosts do not keep colliding.
    await Bun.sleep(2 + Math.random() * 20);
  }
  throw new FleetUnavailable(`the quota ledger of ${name} stayed too busy to reserve ${vm}; try again`);
}

/** Deletes `owner`'s entry for `vm` if this host wrote it (a failed create). */
async function releaseEntry(fleet: Fleet, owner: string, vm: string): Promise<void> {
  const key = fleet.quotaKey(owner, vm);
  const kv = (await fleet.etcd.get(key).exec()).kvs[0];
  if (!kv || (JSON.parse(kv.value.toString()) as Entry).host !== fleet.name) return;
  await fleet.etcd.if(key, "Mod", "==", kv.mod_revision).then(fleet.etcd.delete().key(key)).commit();
}

function releaseQuietly(fleet: Fleet, owner: string, vm: string): Promise<void> {
  return releaseEntry(fleet, owner, vm).catch((e) =>
    log.warn("quota ledger entry not released; the settle releases it", { vm, error: String(e) }),
  );
}

/** Splits a ledger key into its owner and VM (`vm` empty: the owner's head). */
function parseKey(fleet: Fleet, key: string): { owner: string; vm: string } | null {
  const rest = key.slice(fleet.quotaKey().length);
  const slash = rest.indexOf("/");
  if (slash < 0) return null;
  return { owner: decodeURIComponent(rest.slice(0, slash)), vm: rest.slice(slash + 1) };
}

/**
 * After `vm` was deleted here: its entries go once no host claims its name (a VM that migrated away keeps its
 * entry, in the same transaction's compare). The owner comes from this host's picture of the ledger; a VM it does
 * not know (owned since the last settle) costs a read of the ledger's keys. An entry missed goes at the settle.
 */
export async function releaseDeleted(core: Core, fleet: Fleet, vm: string): Promise<void> {
  const known = ownersOf(core, vm);
  const owners =
    known.length > 0
      ? known
      : (await fleet.etcd.getAll().prefix(fleet.quotaKey()).keys())
          .map((k) => parseKey(fleet, k))
          .filter((k) => k?.vm === vm)
          .map((k) => k?.owner as string);
  for (const owner of owners) {
    const tx = await fleet.etcd
      .if(fleet.nameKey(vm), "Create", "==", 0)
      .then(fleet.etcd.delete().key(fleet.quotaKey(owner, vm)))
      .commit();
    if (tx.succeeded) forgetReserved(core, owner, vm);
  }
}

function sameCharge(e: Entry, c: VmCharge): boolean {
  return e.vcpus === c.vcpus && e.memory_mib === c.memory_mib && e.disk_bytes === c.disk_bytes;
}

/**
 * Settles the ledger with this host's database, every lease period: each owned VM here has exactly its entry
 * (written again when a resize, a checkout or an arrival changed it); an entry of a VM no host claims, or that this
 * host claims without a row or an arrival, goes once older than `graceMs` (a create between reservation and row).
 * Entries of VMs other hosts claim stay, also when those hosts are dead: their VMs still exist (and may be
 * recovered elsewhere), so they keep counting. Then notes what each user holds elsewhere for the quick checks.
 */
export async function settleQuota(
  core: Core,
  fleet: Fleet,
  graceMs: number,
): Promise<{ written: string[]; released: string[] }> {
  const written: string[] = [];
  const released: string[] = [];
  if (!core.config.auth.enabled) return { written, released };
  const [ledger, names] = await Promise.all([
    fleet.etcd.getAll().prefix(fleet.quotaKey()).strings(),
    fleet.etcd.getAll().prefix(fleet.nameKey()).strings(),
  ]);
  const byVm = new Map<string, { owner: string; key: string; entry: Entry }[]>();
  for (const [key, raw] of Object.entries(ledger)) {
    const k = parseKey(fleet, key);
    if (!k || k.vm === "") continue;
    const list = byVm.get(k.vm) ?? [];
    list.push({ owner: k.owner, key, entry: JSON.parse(raw) as Entry });
    byVm.set(k.vm, list);
  }
  const claimOf = (vm: string): NameClaim | null => {
    const raw = names[fleet.nameKey(vm)];
    return raw === undefined ? null : (JSON.parse(raw) as NameClaim);
  };
  const charges = new Map(chargesOfVms(core.db).map((c) => [c.name, c]));
  const gone = new Set<string>();
  for (const c of charges.values()) {
    const list = byVm.get(c.name) ?? [];
    for (const e of list.filter((e) => e.owner !== c.owner)) {
      await fleet.etcd.delete().key(e.key);
      gone.add(e.key);
      released.push(`${e.owner}/${c.name}`);
    }
    const cur = list.find((e) => e.owner === c.owner);
    if (cur && sameCharge(cur.entry, c)) continue;
    const value = JSON.stringify({
      vcpus: c.vcpus,
      memory_mib: c.memory_mib,
      disk_bytes: c.disk_bytes,
      host: fleet.name,
      at: new Date().toISOString(),
    } satisfies Entry);
    // A bigger charge bumps the head too: a reservation that read before it checks again.
    const head = fleet.quotaKey(c.owner);
    await fleet.etcd
      .if(head, "Version", ">", -1)
      .then(fleet.etcd.put(head).value(value), fleet.etcd.put(fleet.quotaKey(c.owner, c.name)).value(value))
      .commit();
    written.push(`${c.owner}/${c.name}`);
  }
  for (const [vm, list] of byVm) {
    if (charges.has(vm)) continue;
    const claim = claimOf(vm);
    const ours = claim?.host === fleet.name && arrivalOf(core.db, vm) === null;
    if (claim !== null && !ours) continue;
    for (const e of list) {
      if (Date.now() - Date.parse(e.entry.at) < graceMs) continue;
      await fleet.etcd.delete().key(e.key);
      gone.add(e.key);
      released.push(`${e.owner}/${vm}`);
    }
  }
  const elsewhere = new Map<string, Map<string, Charge>>();
  for (const [vm, list] of byVm) {
    for (const e of list) {
      if (gone.has(e.key)) continue;
      const mine = elsewhere.get(e.owner) ?? new Map<string, Charge>();
      mine.set(vm, e.entry);
      elsewhere.set(e.owner, mine);
    }
  }
  noteHeldElsewhere(core, elsewhere);
  return { written, released };
}
