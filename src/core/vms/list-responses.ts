// Whole GET /v1/vms answers, kept while nothing they show changed: no write to a VM, its devices, networks or leases, no state change.

import type { Database } from "bun:sqlite";
import { actsAsAdmin, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { listVmsEncoded, type VmListQuery } from "./list.ts";
import { vmStates } from "./state-map.ts";

export interface VmListAnswer {
  /** The JSON array, UTF-8. */
  bytes: Uint8Array;
  next: string | null;
}

interface Kept extends VmListAnswer {
  /** The database's and the state map's versions it was made at, and the auth settings it was seen under. */
  db: number;
  states: number;
  auth: object;
}

/** At most this many answers, and this many bytes in all, are kept (per database): the full list at 10 000 VMs is ~6 MB. */
const KEEP = 8;
const KEEP_BYTES = 16 * 2 ** 20;

const kept = new WeakMap<Database, Map<string, Kept>>();

/** The version of everything a list shows: triggers move it on each write to VMs, their devices, networks and pool leases. */
function dbVersion(db: Database): number {
  return (db.query("SELECT n FROM vm_rev_next").get() as { n: number }).n;
}

/** What an answer depends on beyond the data: the query, and who asks (admins all see the same). */
function keyOf(core: Core, caller: Caller | null, q: VmListQuery): string {
  const who = actsAsAdmin(core, caller) ? "*" : `u:${caller?.name ?? ""}:${caller?.admin === true}`;
  return JSON.stringify([
    who,
    q.state,
    q.name,
    q.tag,
    q.project,
    q.pool,
    q.owner,
    q.recursion,
    q.limit,
    q.after,
  ]);
}

/** GET /v1/vms's answer: the one kept, while the database and the states are where they were; else made again. */
export async function listVmsAnswer(
  core: Core,
  caller: Caller | null,
  q: VmListQuery = {},
): Promise<VmListAnswer> {
  let answers = kept.get(core.db);
  if (!answers) {
    answers = new Map();
    kept.set(core.db, answers);
  }
  const key = keyOf(core, caller, q);
  const map = vmStates(core.hv);
  const db = dbVersion(core.db);
  const states = map.loaded ? map.version : -1;
  const had = answers.get(key);
  if (had && had.db === db && had.states === states && had.auth === core.config.auth) {
    // Most recently used last: the first one is the one to drop.
    answers.delete(key);
    answers.set(key, had);
    return had;
  }
  const page = await listVmsEncoded(core, caller, q);
  const bytes = Buffer.from(page.body, "utf8");
  // Keyed by what was true before the list was made: a change while it was made only makes it stale sooner.
  const fresh: Kept = { bytes, next: page.next, db, states, auth: core.config.auth };
  answers.delete(key);
  answers.set(key, fresh);
  let total = 0;
  for (const a of answers.values()) total += a.bytes.byteLength;
  for (const [k, a] of answers) {
    if (answers.size <= KEEP && total <= KEEP_BYTES) break;
    answers.delete(k);
    total -= a.bytes.byteLength;
  }
  return fresh;
}
