// Where fleet pools live in etcd: each host's ready VMs, the VMs a checkout took, and the checkout records.
import type { Lease } from "../../db/checkout.ts";
import { FleetUnavailable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";

/** `<prefix>/` of this fleet (the hosts' keys sit at `<prefix>/hosts/`). */
function root(fleet: Fleet): string {
  return fleet.hostKey().slice(0, -"hosts/".length);
}

/** All pool keys of the fleet: `<prefix>/pools/<pool>/{ready,taken}/<vm>`. */
export const poolsPrefix = (fleet: Fleet) => `${root(fleet)}pools/`;
export const readyKey = (fleet: Fleet, pool: string, vm: string) =>
  `${poolsPrefix(fleet)}${pool}/ready/${vm}`;
export const takenKey = (fleet: Fleet, pool: string, vm: string) =>
  `${poolsPrefix(fleet)}${pool}/taken/${vm}`;
export const checkoutKey = (fleet: Fleet, id = "") => `${root(fleet)}checkouts/${id}`;

/** A published ready VM: the host that holds it, and since when it is ready (oldest are taken first). */
export interface ReadyValue {
  host: string;
  ready_at: string | null;
}

/** A VM a checkout took in etcd and its host has not recorded yet: everything that host needs to record it. */
export interface TakenValue extends Lease {
  checkout: string;
  host: string;
  pool: string;
  requested: string;
  tags: Record<string, string>;
}

/** The record of a fleet checkout (for the holding hosts and for audit): who took which VMs where. */
export interface CheckoutRecord {
  id: string;
  owner: string | null;
  caller: string | null;
  from: string;
  at: string;
  vms: { name: string; pool: string; host: string }[];
}

/** A pool key split into its parts; null for anything else under the prefix. */
export function parsePoolKey(
  fleet: Fleet,
  key: string,
): { pool: string; kind: "ready" | "taken"; vm: string } | null {
  const rest = key.slice(poolsPrefix(fleet).length).split("/");
  if (rest.length !== 3) return null;
  const [pool, kind, vm] = rest as [string, string, string];
  if ((kind !== "ready" && kind !== "taken") || pool === "" || vm === "") return null;
  return { pool, kind, vm };
}

/** One pool key of the fleet as read: its parts, its value (JSON text) and its mod revision. */
export interface PoolEntry {
  pool: string;
  kind: "ready" | "taken";
  vm: string;
  value: string;
  mod: string;
}

/** Every pool key of the fleet, in one read of the prefix; `what` says in the 503 what could not be read. */
export async function readPoolEntries(fleet: Fleet, what: string): Promise<PoolEntry[]> {
  const all = await fleet.etcd
    .getAll()
    .prefix(poolsPrefix(fleet))
    .exec()
    .catch((e) => {
      throw new FleetUnavailable(`cannot read ${what}: etcd is not reachable`, { cause: e });
    });
  const out: PoolEntry[] = [];
  for (const kv of all.kvs) {
    const k = parsePoolKey(fleet, kv.key.toString());
    if (k) out.push({ ...k, value: kv.value.toString(), mod: kv.mod_revision });
  }
  return out;
}
