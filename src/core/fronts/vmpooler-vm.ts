// vmpooler's /vm/<hostname> over core: host names with the domain, the VM's view, lifetime and tags, return.
import { hostname as hostHostname } from "node:os";
import { getMember } from "../../db/pools.ts";
import { vmByName } from "../../db/vms.ts";
import { BadRequest, NotFound } from "../../errors.ts";
import { SYSTEM } from "../auth/access.ts";
import { type Caller, Unauthorized, vmSight } from "../auth/index.ts";
import { anonymousLease, assertVmVisible } from "../auth/vm-access.ts";
import type { Core } from "../context.ts";
import { leaseOf } from "../pools/checkout.ts";
import { findPool } from "../pools/records.ts";
import { deleteVmOp, getVm, updateVmSettings, type Vm } from "../vms/index.ts";
import { publicView } from "../vms/read.ts";
import { vmTarget } from "../vms/records.ts";
import { listSnapshots } from "../vms/snapshots.ts";

const HOUR_MS = 3_600_000;
/** The tag checkout sets to the VM's pool: berth's own, so never shown or set as a user's tag. */
const POOL_TAG = "pool";

/** A success body: `"ok": true` next to keys named by pools, hosts or tokens. */
export type Ok = { ok: true; [key: string]: unknown };

/** vmpooler's `domain` key: present only when [vmpooler] domain is set, as vmpooler omitted it unset. */
export function vmpoolerDomain(core: Core): { domain?: string } {
  const d = core.config.vmpooler.domain;
  return d ? { domain: d } : {};
}

/** `<host>.<domain>` → `<host>`, as vmpooler strips its domain; a VM named exactly so keeps its name. */
export function vmpoolerHost(core: Core, host: string): string {
  const d = core.config.vmpooler.domain;
  if (!d || !host.endsWith(`.${d}`)) return host;
  const short = host.slice(0, -(d.length + 1));
  if (short === "" || short.includes(".") || vmByName(core.db, host)) return host;
  return short;
}

/** The operation returning the VM, when one runs: a returned VM is destroyed from the client's view. */
function returning(core: Core, name: string) {
  const id = core.locks.holder(vmTarget(name));
  const op = id === undefined ? undefined : core.ops.get(id);
  return op?.kind === "vm.delete" ? op : undefined;
}

/** vmpooler's anonymous lease, when [vmpooler] anonymous_checkout allows it (core's named rule). */
function anonymous(core: Core, name: string): boolean {
  return core.config.vmpooler.anonymous_checkout && anonymousLease(core, name);
}

/**
 * Who acts on the VM: berth on behalf of anyone for a return or tag change of an anonymous lease;
 * otherwise the caller, and with auth on an anonymous caller is told to send a token (401), as vmpooler.
 */
function actorFor(core: Core, caller: Caller | null, name: string, anyoneMay: boolean): Caller | null {
  if (anyoneMay && anonymous(core, name)) return SYSTEM;
  if (core.config.auth.enabled && !caller) {
    assertVmVisible(core, caller, name);
    throw new Unauthorized(`vm ${name} was checked out with a token: send it as X-AUTH-TOKEN`);
  }
  return caller;
}

/** What the caller sees: an anonymous lease in public view to anyone, any other VM by core's rules. */
async function seenBy(core: Core, caller: Caller | null, name: string): Promise<{ vm: Vm; full: boolean }> {
  const full = vmSight(core, caller, name) === "full";
  if (anonymous(core, name)) {
    const vm = await getVm(core, SYSTEM, name);
    return { vm: full ? vm : publicView(vm), full };
  }
  return { vm: await getVm(core, caller, name), full };
}

const hours = (ms: number) => Math.round((ms / HOUR_MS) * 100) / 100;
/** Ruby's DateTime#rfc3339 in UTC, as vmpooler wrote start_time and end_time. */
const rfc3339 = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`;

/** The pool's default lifetime for a VM not checked out (vmpooler showed its vm_lifetime); 0 outside pools. */
function poolLifetime(core: Core, pool: string | undefined): number {
  if (pool === undefined) return 0;
  try {
    return findPool(core, pool).spec.lifetime;
  } catch (e) {
    if (e instanceof NotFound) return 0;
    throw e;
  }
}

/** vmpooler's state and times: running (checked out) with its lease, destroyed once returned, else the pool's state. */
function lifecycle(core: Core, vm: Vm, at: number, ret = returning(core, vm.name)): Record<string, unknown> {
  const member = getMember(core.db, vm.name);
  const lease = leaseOf(core, vm.name);
  const lifetime = Math.trunc(lease?.lifetime_hours ?? poolLifetime(core, member?.pool));
  if (ret) {
    const ran = lease
      ? { running: hours(Date.parse(ret.created_at) - Date.parse(lease.checked_out_at)) }
      : {};
    return { lifetime, running: 0, ...ran, state: "destroyed" };
  }
  if (lease) {
    const start = Date.parse(lease.checked_out_at);
    const end = Date.parse(lease.expires_at);
    return {
      lifetime,
      running: hours(at - start),
      remaining: hours(end - at),
      start_time: rfc3339(start),
      end_time: rfc3339(end),
      state: "running",
    };
  }
  if (member) {
    const state = member.status === "draining" ? "completed" : member.status;
    return { lifetime, running: 0, state };
  }
  const running = vm.state === "running" || vm.state === "blocked";
  const since = vm.started_at ?? vm.created_at;
  return {
    lifetime,
    running: running ? hours(at - Date.parse(since)) : 0,
    state: running ? "running" : vm.status,
  };
}

/** GET /vm/<hostname>: template, lifetime, running, remaining, times, state, tags, snapshots, disks, ip, domain, host. */
export async function vmpoolerVm(
  core: Core,
  caller: Caller | null,
  host: string,
  at = Date.now(),
): Promise<Ok> {
  const name = vmpoolerHost(core, host);
  // Seen before the read's await: a return that finishes during it still shows as destroyed.
  const returned = returning(core, name);
  const { vm, full } = await seenBy(core, caller, name);
  const { [POOL_TAG]: _pool, ...tags } = vm.tags;
  const snapshots = full ? listSnapshots(core, caller, name).map((s) => s.name) : [];
  const disk = vm.disks
    .filter((d) => d.device === "disk" && d.name !== "root")
    .map((d) => `+${Math.round(d.size / 1024 ** 3)}gb`);
  const view = {
    template: getMember(core.db, name)?.pool ?? vm.profile ?? vm.image ?? "",
    ...lifecycle(core, vm, at, returned ?? returning(core, name)),
    tags,
    ...(snapshots.length > 0 ? { snapshots } : {}),
    ...(disk.length > 0 ? { disk } : {}),
    // go-vmpooler reads ip as a string and panics without it: vmpooler sent "" when it could not resolve one.
    ip: vm.primary_ipv4 ?? "",
    ...vmpoolerDomain(core),
    host: hostHostname(),
  };
  return { ok: true, [name]: view };
}

export interface VmpoolerChange {
  lifetime?: number | string;
  tags?: Record<string, string | null>;
}

/** A lifetime as vmpooler read it (Ruby's to_i): "4.5" and 4.5 are 4, "2h" is 2; 400 unless above 0. */
export function lifetimeOf(v: number | string): number {
  const n = typeof v === "number" ? Math.trunc(v) : Number(/^\s*[+-]?\d+/.exec(v)?.[0] ?? 0);
  if (!(n > 0))
    throw new BadRequest(`lifetime must be a positive number of hours (got ${JSON.stringify(v)})`);
  return n;
}

/** Tags as vmpooler stored them: a null or empty value is skipped; the pool tag is berth's own. */
function userTags(tags: Record<string, string | null>): Record<string, string> {
  if (Object.hasOwn(tags, POOL_TAG)) {
    throw new BadRequest(`the tag ${POOL_TAG} is berth's own (the VM's pool): use another name`);
  }
  return Object.fromEntries(
    Object.entries(tags).filter((e): e is [string, string] => e[1] !== null && e[1] !== ""),
  );
}

/** PUT /vm/<hostname>: lifetime (a token and the VM's owner), tags (also anyone on an anonymous lease). */
export async function vmpoolerUpdate(
  core: Core,
  caller: Caller | null,
  host: string,
  change: VmpoolerChange,
): Promise<{ ok: true }> {
  if (change.lifetime === undefined && change.tags === undefined) {
    throw new BadRequest("give lifetime (hours) or tags");
  }
  const name = vmpoolerHost(core, host);
  const lifetime = change.lifetime === undefined ? undefined : lifetimeOf(change.lifetime);
  const tags = change.tags === undefined ? undefined : userTags(change.tags);
  if (lifetime !== undefined && core.config.auth.enabled && !caller) {
    throw new Unauthorized("a lifetime change needs a token: X-AUTH-TOKEN");
  }
  const actor = actorFor(core, caller, name, lifetime === undefined);
  const vm = await getVm(core, actor, name);
  await updateVmSettings(core, actor, name, {
    ...(lifetime !== undefined ? { lifetime } : {}),
    ...(tags !== undefined ? { tags: { ...vm.tags, ...tags } } : {}),
  });
  return { ok: true };
}

/** DELETE /vm/<hostname>: the return is scheduled (an operation); a VM already returned is 404, as vmpooler. */
export function vmpoolerDelete(core: Core, caller: Caller | null, host: string): { ok: true } {
  const name = vmpoolerHost(core, host);
  if (returning(core, name)) throw new NotFound(`vm ${name} is already returned`);
  deleteVmOp(core, actorFor(core, caller, name, true), name);
  return { ok: true };
}
