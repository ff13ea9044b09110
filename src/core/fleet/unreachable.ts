// What the fleet shows of VMs whose host is not a live member: their last published record, state `unreachable`, with their host.
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { type Caller, sightOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { VmListQuery } from "../vms/list.ts";
import { publicView } from "../vms/read.ts";
import { networkInfo, present, type Vm } from "../vms/records.ts";
import type { Fleet } from "./fleet.ts";
import { liveHosts } from "./members.ts";
import { claimOf, type NameClaim } from "./names.ts";
import { type PublishedRecord, publishedRecord, publishedRecords } from "./records.ts";

/** The status a VM of a host that is not a live member shows. */
export const UNREACHABLE = "unreachable";

export type UnreachableVm = Omit<Vm, "status"> & { status: typeof UNREACHABLE; host: string };

/** The owner as the VM's host records it: its creator, else whoever holds it checked out. */
function ownerOf(p: PublishedRecord): string | null {
  const m = p.record.member;
  return p.record.vm.owner ?? (m?.status === "checked_out" ? m.owner : null);
}

/** The view of `vm` on dead host `host` the caller may see, or null (hidden; no record: admins see its name only). */
export function unreachableView(
  core: Core,
  caller: Caller | null,
  vm: string,
  host: string,
  p: PublishedRecord | null,
): UnreachableVm | Pick<UnreachableVm, "name" | "status" | "host"> | null {
  if (!p)
    return sightOf(core, caller, null, DEFAULT_PROJECT) === "full"
      ? { name: vm, status: UNREACHABLE, host }
      : null;
  const sight = sightOf(core, caller, ownerOf(p), p.record.vm.project ?? DEFAULT_PROJECT);
  if (sight === "none") return null;
  const r = p.record;
  const view = present(r.vm, r.disks, r.nics, "unknown", networkInfo(core));
  return { ...(sight === "full" ? view : publicView(view)), status: UNREACHABLE, host };
}

/** Whether a view passes a list's filters (the same meaning as on one host's list). */
function matches(v: ReturnType<typeof unreachableView>, p: PublishedRecord | null, q: VmListQuery): boolean {
  if (!v) return false;
  if (q.state !== undefined && q.state !== UNREACHABLE) return false;
  if (q.name !== undefined && q.name !== v.name) return false;
  if (q.after !== undefined && !(v.name > q.after)) return false;
  if (q.project !== undefined && (p?.record.vm.project ?? DEFAULT_PROJECT) !== q.project) return false;
  if (q.pool !== undefined && p?.record.member?.pool !== q.pool) return false;
  if (q.owner !== undefined && (!p || ownerOf(p) !== q.owner)) return false;
  if (q.tag !== undefined) {
    const tags = "tags" in v ? v.tags : {};
    const eq = q.tag.indexOf("=");
    const key = eq < 0 ? q.tag : q.tag.slice(0, eq);
    if (!Object.hasOwn(tags, key) || (eq >= 0 && tags[key] !== q.tag.slice(eq + 1))) return false;
  }
  return true;
}

/** The VMs claimed by hosts that are not live (never this one), as the caller may see them, filtered. */
export async function unreachableVms(
  core: Core,
  fleet: Fleet,
  caller: Caller | null,
  q: VmListQuery,
  live: Set<string>,
): Promise<NonNullable<ReturnType<typeof unreachableView>>[]> {
  const claims = await fleet.etcd.getAll().prefix(fleet.nameKey()).strings();
  const dead: [string, NameClaim][] = [];
  for (const [key, raw] of Object.entries(claims)) {
    const claim = JSON.parse(raw) as NameClaim;
    if (claim.host !== fleet.name && !live.has(claim.host))
      dead.push([key.slice(fleet.nameKey().length), claim]);
  }
  if (dead.length === 0) return [];
  const records = await publishedRecords(fleet);
  const out: NonNullable<ReturnType<typeof unreachableView>>[] = [];
  for (const [vm, claim] of dead) {
    const p = records.get(vm) ?? null;
    const view = unreachableView(core, caller, vm, claim.host, p?.host === claim.host ? p : null);
    if (view && matches(view, p, q)) out.push(view);
  }
  return out;
}

/** The view of one VM whose claiming host is not live, or null when its host is live (or nobody claims it). */
export async function unreachableVm(
  core: Core,
  caller: Caller | null,
  vm: string,
): Promise<ReturnType<typeof unreachableView> | undefined> {
  const fleet = core.fleet;
  if (!fleet) return undefined;
  const claim = await claimOf(fleet, vm);
  if (!claim || claim.host === fleet.name || (await liveHosts(fleet)).has(claim.host)) return undefined;
  const p = await publishedRecord(fleet, vm);
  return unreachableView(core, caller, vm, claim.host, p?.host === claim.host ? p : null);
}
