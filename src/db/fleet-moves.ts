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

/** Each side's table, its row and the column its rows are listed by. */
interface Moves {
  fleet_departures: DepartureRow;
  fleet_arrivals: ArrivalRow;
}
const LISTED_BY = { fleet_departures: "started_at", fleet_arrivals: "created_at" } as const;

function moveOf<T extends keyof Moves>(db: Database, table: T, vm: string): Moves[T] | null {
  return db.query(`SELECT * FROM ${table} WHERE vm_name = ?`).get(vm) as Moves[T] | null;
}

function movesIn<T extends keyof Moves>(db: Database, table: T): Moves[T][] {
  return db.query(`SELECT * FROM ${table} ORDER BY ${LISTED_BY[table]}`).all() as Moves[T][];
}

function deleteMove(db: Database, table: keyof Moves, vm: string, migration: string): void {
  db.query(`DELETE FROM ${table} WHERE vm_name = ? AND migration = ?`).run(vm, migration);
}

export const departureOf = (db: Database, vm: string) => moveOf(db, "fleet_departures", vm);
export const listDepartures = (db: Database) => movesIn(db, "fleet_departures");
export const deleteDeparture = (db: Database, vm: string, migration: string) =>
  deleteMove(db, "fleet_departures", vm, migration);

/** Records (or replaces, for a retried migration) what is arriving. */
export function putArrival(db: Database, a: ArrivalRow): void {
  db.query(
    `INSERT INTO fleet_arrivals (vm_name, migration, from_host, record, created_at)
     VALUES ($vm_name, $migration, $from_host, $record, $created_at)
     ON CONFLICT (vm_name) DO UPDATE SET migration = excluded.migration, from_host = excluded.from_host,
       record = excluded.record, created_at = excluded.created_at`,
  ).run({ ...a });
}

export const arrivalOf = (db: Database, vm: string) => moveOf(db, "fleet_arrivals", vm);
export const listArrivals = (db: Database) => movesIn(db, "fleet_arrivals");
export const deleteArrival = (db: Database, vm: string, migration: string) =>
  deleteMove(db, "fleet_arrivals", vm, migration);
