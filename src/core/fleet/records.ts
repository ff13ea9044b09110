// Each host's VM records published in etcd (no lease): what the fleet shows of a dead host's VMs and what a recovery starts from.
import { arrivalOf, departureOf } from "../../db/fleet-moves.ts";
import { getMember } from "../../db/pools.ts";
import { type VmRow, vmByName } from "../../db/vms.ts";
import { DomainXmlFlags } from "../../ffi/constants.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { domainState } from "../vms/domain.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { type MovedRecord, recordOf } from "./moved-record.ts";

/** A record as published: the host that holds the VM, and what changes it (the row's revision and its pool membership). */
export interface PublishedRecord {
  host: string;
  /** Row revision and pool membership: a change of either publishes again. */
  mark: string;
  at: string;
  record: MovedRecord;
}

const markOf = (core: Core, row: VmRow & { rev?: number }) =>
  `${row.rev ?? 0}:${JSON.stringify(getMember(core.db, row.name))}`;

/** The last record of `vm` any host published, or null. */
export async function publishedRecord(fleet: Fleet, vm: string): Promise<PublishedRecord | null> {
  const raw = await fleet.etcd
    .get(fleet.recordKey(vm))
    .string()
    .catch((e) => {
      throw new FleetUnavailable(`cannot read the record of vm ${vm}: etcd is not reachable`, { cause: e });
    });
  return raw === null ? null : (JSON.parse(raw) as PublishedRecord);
}

/** Every published record, by VM name. */
export async function publishedRecords(fleet: Fleet): Promise<Map<string, PublishedRecord>> {
  const all = await fleet.etcd
    .getAll()
    .prefix(fleet.recordKey())
    .strings()
    .catch((e) => {
      throw new FleetUnavailable("cannot read the fleet's vm records: etcd is not reachable", { cause: e });
    });
  const out = new Map<string, PublishedRecord>();
  for (const [key, raw] of Object.entries(all)) out.set(key.slice(fleet.recordKey().length), JSON.parse(raw));
  return out;
}

/** Publishes the record of `row` as this host holds it now (its persistent definition read from libvirt); returns its mark and mod revision. */
export async function publishRecord(core: Core, fleet: Fleet, row: VmRow): Promise<Published> {
  const xml = await core.hv.call("domain.xml", {
    name: row.name,
    flags: DomainXmlFlags.INACTIVE | DomainXmlFlags.SECURE,
  });
  const value: PublishedRecord = {
    host: fleet.name,
    mark: markOf(core, row),
    at: new Date().toISOString(),
    record: recordOf(core.db, row, xml),
  };
  const put = await fleet.etcd.put(fleet.recordKey(row.name)).value(JSON.stringify(value)).exec();
  return { mark: value.mark, mod: put.header.revision };
}

/** What this host last published of one VM: its mark, and the revision of its put (a delete compares it). */
interface Published {
  mark: string;
  mod: string;
}

/** Passes between two full reads of the published records (a record changed by hand or lost is then put again). */
const RESEED_EVERY = 20;

/**
 * Keeps this host's published records in step with its VMs: each pass publishes those whose mark changed
 * (or that were never published) and deletes its records of VMs it no longer has (deleted, or moved away;
 * compared by revision, so the new host's record is left alone). What was published is remembered, so etcd
 * is read whole only on the first pass and every RESEED_EVERY passes.
 */
export class RecordSync {
  #published = new Map<string, Published>();
  #passes = 0;

  constructor(
    readonly core: Core,
    readonly fleet: Fleet,
  ) {}

  async #reseed(): Promise<void> {
    const fleet = this.fleet;
    const all = await fleet.etcd.getAll().prefix(fleet.recordKey()).exec();
    this.#published.clear();
    for (const kv of all.kvs) {
      const p = JSON.parse(kv.value.toString()) as PublishedRecord;
      if (p.host !== fleet.name) continue;
      this.#published.set(kv.key.toString().slice(fleet.recordKey().length), {
        mark: p.mark,
        mod: kv.mod_revision,
      });
    }
  }

  /** `skip`: VMs whose name another host holds now (recovered away): their record is that host's. */
  async pass(skip: ReadonlySet<string> = new Set()): Promise<{ published: number; removed: number }> {
    const { core, fleet } = this;
    if (this.#passes++ % RESEED_EVERY === 0) await this.#reseed();
    let published = 0;
    let removed = 0;
    const rows = core.db.query("SELECT * FROM vms WHERE status NOT IN ('creating', 'gone')").all() as VmRow[];
    const names = new Set<string>();
    for (const row of rows) {
      names.add(row.name);
      if (skip.has(row.name) || this.#published.get(row.name)?.mark === markOf(core, row)) continue;
      // A VM leaving or arriving is published by whichever host holds it once the move is settled.
      if (departureOf(core.db, row.name) || arrivalOf(core.db, row.name)) continue;
      if ((await domainState(core, row.name)) === null) continue;
      try {
        this.#published.set(row.name, await publishRecord(core, fleet, row));
        published++;
      } catch (e) {
        log.warn("fleet: vm record not published", { vm: row.name, error: String(e) });
      }
    }
    for (const [vm, p] of this.#published) {
      if (names.has(vm) || vmByName(core.db, vm) !== null || arrivalOf(core.db, vm)) continue;
      const key = fleet.recordKey(vm);
      await fleet.etcd.if(key, "Mod", "==", p.mod).then(fleet.etcd.delete().key(key)).commit();
      this.#published.delete(vm);
      removed++;
    }
    return { published, removed };
  }
}
