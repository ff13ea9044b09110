// fleet_departures and fleet_arrivals: the durable half of a migration on each side until the name claim has moved.
import type { Database } from "bun:sqlite";

export interface DepartureRow {
  vm_name: string;
  migration: string;
  to_host: string;
  live: 0 | 1;
  started_at: string;
}

export interface ArrivalRow {
  vm_name: string;
  migration: string;
  from_host: string;
  /** JSON of the VM's record as the source host sent it (MovedRecord). */
  record: string;
  created_at: string;
}

export function insertDeparture(db: Database, d: DepartureRow): void {
  db.query(
    "INSERT INTO fleet_departures (vm_name, migration, to_host, live, started_at) VALUES ($vm_name, $migration, $to_host, $live, $started_at)",
  ).run({ ...d });
}

export function departureOf(db: Database, vm: string): DepartureRow | null {
  return db.query("SELECT * FROM fleet_departures WHERE vm_name = ?").get(vm) as DepartureRow | null;
}

export function listDepartures(db: Database): DepartureRow[] {
  return db.query("SELECT * FROM fleet_departures ORDER BY started_at").all() as DepartureRow[];
}

export function deleteDeparture(db: Database, vm: string, migration: string): void {
  db.query("DELETE FROM fleet_departures WHERE vm_name = ? AND migration = ?").run(vm, migration);
}

/** Records (or replaces, for a retried migration) what is arriving. */
export function putArrival(db: Database, a: ArrivalRow): void {
  db.query(
    `INSERT INTO fleet_arrivals (vm_name, migration, from_host, record, created_at)
     VALUES ($vm_name, $migration, $from_host, $record, $created_at)
     ON CONFLICT (vm_name) DO UPDATE SET migration = excluded.migration, from_host = excluded.from_host,
       record = excluded.record, created_at = excluded.created_at`,
  ).run({ ...a });
}

export function arrivalOf(db: Database, vm: string): ArrivalRow | null {
  return db.query("SELECT * FROM fleet_arrivals WHERE vm_name = ?").get(vm) as ArrivalRow | null;
}

export function listArrivals(db: Database): ArrivalRow[] {
  return db.query("SELECT * FROM fleet_arrivals ORDER BY created_at").all() as ArrivalRow[];
}

export function deleteArrival(db: Database, vm: string, migration: string): void {
  db.query("DELETE FROM fleet_arrivals WHERE vm_name = ? AND migration = ?").run(vm, migration);
}
