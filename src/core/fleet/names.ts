// One namespace: a VM name is claimed in etcd by the host that creates it, released on delete, settled after crashes.
import { arrivalOf, departureOf } from "../../db/fleet-moves.ts";
import { vmByName } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";

/** The value of a name's key: the host that holds the VM, and since when. */
export interface NameClaim {
  host: string;
  at: string;
  /** Set by a recovery: the dead host the VM was taken from (which drops it when it comes back). */
  recovered_from?: string;
}

function fleetDown(what: string, cause: unknown): FleetUnavailable {
  return new FleetUnavailable(`${what}: etcd is not reachable`, { cause });
}

/** The host that holds `vm` in the fleet, or null when no host claims the name. */
export async function claimOf(fleet: Fleet, vm: string): Promise<NameClaim | null> {
  const raw = await fleet.etcd
    .get(fleet.nameKey(vm))
    .string()
    .catch((e) => {
      throw fleetDown(`cannot look up vm ${vm}`, e);
    });
  return raw === null ? null : (JSON.parse(raw) as NameClaim);
}

/**
 * Claims `vm` for this host in one etcd transaction (only if no host holds it). A claim this host already
 * holds is kept (a create retried after a crash); another host's is a 409.
 */
export async function claimName(fleet: Fleet, vm: string): Promise<boolean> {
  const key = fleet.nameKey(vm);
  const value = JSON.stringify({ host: fleet.name, at: new Date().toISOString() } satisfies NameClaim);
  const tx = await fleet.etcd
    .if(key, "Create", "==", 0)
    .then(fleet.etcd.put(key).value(value))
    .else(fleet.etcd.get(key))
    .commit()
    .catch((e) => {
      throw fleetDown(`cannot claim the name ${vm}`, e);
    });
  if (tx.succeeded) return true;
  const held = tx.responses[0]?.response_range?.kvs[0]?.value.toString();
  const holder = held ? (JSON.parse(held) as NameClaim).host : "another host";
  if (holder !== fleet.name) throw new Conflict(`vm ${vm} already exists in the fleet (on host ${holder})`);
  return false;
}

/** Gives up this host's claim on `vm`; another host's claim is left alone. */
export async function releaseName(fleet: Fleet, vm: string): Promise<void> {
  const key = fleet.nameKey(vm);
  const kv = (await fleet.etcd.get(key).exec()).kvs[0];
  if (!kv || (JSON.parse(kv.value.toString()) as NameClaim).host !== fleet.name) return;
  // Only the version read above: a claim made again since then stays.
  await fleet.etcd.if(key, "Mod", "==", kv.mod_revision).then(fleet.etcd.delete().key(key)).commit();
}

/** Claims in the create path; a no-op on a single host. Returns the undo for a create that then fails. */
export async function claimForCreate(core: Core, vm: string): Promise<() => Promise<void>> {
  const fleet = core.fleet;
  // A claim this host already held (another VM of that name here, or a crashed create) is not this create's to give back.
  if (!fleet || !(await claimName(fleet, vm))) return async () => {};
  return () => releaseQuietly(fleet, vm);
}

function releaseQuietly(fleet: Fleet, vm: string): Promise<void> {
  return releaseName(fleet, vm).catch((e) =>
    log.warn("fleet name claim not released; reconcile releases it", { vm, error: String(e) }),
  );
}

/** After a failed create forgot its VM: the name goes back to the fleet (reconcile retries if etcd is away). */
export function releaseUnrecorded(core: Core, vm: string): void {
  if (core.fleet) void releaseQuietly(core.fleet, vm);
}

/**
 * Settles claims with this host's database: a claim of this host with no VM behind it, older than `graceMs`
 * (a create between its claim and its row), is released; a VM of this host without a claim is claimed.
 */
export async function settleNames(
  core: Core,
  fleet: Fleet,
  graceMs: number,
): Promise<{ released: string[]; claimed: string[] }> {
  const all = await fleet.etcd.getAll().prefix(fleet.nameKey()).strings();
  const released: string[] = [];
  const claimed: string[] = [];
  const ours = new Set<string>();
  for (const [key, raw] of Object.entries(all)) {
    const vm = key.slice(fleet.nameKey().length);
    const claim = JSON.parse(raw) as NameClaim;
    if (claim.host !== fleet.name) continue;
    ours.add(vm);
    // An arrival whose claim has come here is committed by settleMoves, not released.
    if (vmByName(core.db, vm) !== null || arrivalOf(core.db, vm) !== null) continue;
    if (Date.now() - Date.parse(claim.at) < graceMs) continue;
    await releaseName(fleet, vm);
    released.push(vm);
  }
  const rows = core.db.query("SELECT name FROM vms").all() as { name: string }[];
  for (const { name } of rows) {
    // A departing VM's claim may have gone to its new host: settleMoves decides, not a claim back.
    if (ours.has(name) || departureOf(core.db, name) !== null) continue;
    try {
      await claimName(fleet, name);
      claimed.push(name);
    } catch (e) {
      if (!(e instanceof Conflict)) throw e;
      log.error("a vm of this host has a name another host claims", { vm: name, error: e.message });
    }
  }
  return { released, claimed };
}

/** Every host that holds at least one name (live or not): a list names those it could not reach. */
export async function claimHolders(fleet: Fleet): Promise<Set<string>> {
  const all = await fleet.etcd
    .getAll()
    .prefix(fleet.nameKey())
    .strings()
    .catch((e) => {
      throw fleetDown("cannot read the fleet's names", e);
    });
  return new Set(Object.values(all).map((raw) => (JSON.parse(raw) as NameClaim).host));
}

/**
 * Hands this host's claim on `vm` to host `to` in one etcd transaction that checks the claim is still this
 * host's (the version read): the moment a migration commits. False when the claim is not this host's.
 */
export async function handOver(fleet: Fleet, vm: string, to: string): Promise<boolean> {
  const key = fleet.nameKey(vm);
  const kv = (
    await fleet.etcd
      .get(key)
      .exec()
      .catch((e) => {
        throw fleetDown(`cannot read the claim on ${vm}`, e);
      })
  ).kvs[0];
  if (!kv || (JSON.parse(kv.value.toString()) as NameClaim).host !== fleet.name) return false;
  const value = JSON.stringify({ host: to, at: new Date().toISOString() } satisfies NameClaim);
  const tx = await fleet.etcd
    .if(key, "Mod", "==", kv.mod_revision)
    .then(fleet.etcd.put(key).value(value))
    .commit()
    .catch((e) => {
      throw fleetDown(`cannot hand the claim on ${vm} to ${to}`, e);
    });
  return tx.succeeded;
}
