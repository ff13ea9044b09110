// vmpooler's API model over core: pool names, checkout, VM views and changes, disks, snapshots, tokens.
import { randomBytes } from "node:crypto";
import { getMember, listMembers, listPoolRows } from "../../db/pools.ts";
import { tokenByHash, tokenById } from "../../db/tokens.ts";
import { ownerOfVm } from "../../db/vm-owners.ts";
import { BadRequest, NotFound } from "../../errors.ts";
import {
  AuthDisabled,
  type Caller,
  hashToken,
  issueToken,
  listTokens,
  revokeToken,
  sightOf,
} from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkout, leaseOf } from "../pools/checkout.ts";
import { toPoolRecord } from "../pools/records.ts";
import { poolStatus, type Summary, summary } from "../status/index.ts";
import { now } from "../time.ts";
import { addDisk, deleteVmOp, getVm, updateVmSettings } from "../vms/index.ts";
import { createSnapshot, listSnapshots, revertSnapshot } from "../vms/snapshots.ts";

const HOUR_MS = 3_600_000;
/** vmpooler counted in whole gigabytes; berth's own disk limit. */
const MAX_DISK_GB = 65_536;

/** A success body: `"ok": true` next to keys named by pools, hosts or tokens. */
type Ok = { ok: true; [key: string]: unknown };

/** vmpooler's `domain` key: present only when [vmpooler] domain is set, as vmpooler omitted it unset. */
export function vmpoolerDomain(core: Core): { domain?: string } {
  const d = core.config.vmpooler.domain;
  return d ? { domain: d } : {};
}

/** Every pool name and alias a checkout accepts, each pool followed by its aliases (a shared alias once). */
export function vmpoolerPoolNames(core: Core): string[] {
  const names = listPoolRows(core.db).flatMap((r) => {
    const p = toPoolRecord(r);
    return [p.name, ...p.spec.alias];
  });
  return [...new Set(names)];
}

/** A count as vmpooler clients send it: a positive integer, or the string of one. */
function countOf(pool: string, v: unknown): number {
  const n = typeof v === "string" && /^[0-9]{1,4}$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new BadRequest(`count for ${pool} must be a positive integer (got ${JSON.stringify(v)})`);
  }
  return n;
}

/** `a+a+b` → {a: 2, b: 1}, as vmpooler's POST /vm/<pool>+<pool>. */
export function countsOfPath(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of path.split("+")) {
    if (name === "") throw new NotFound("no pool named in the path");
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/** {"pool": "2", …} → counts; an empty request names no pool, which vmpooler answered 404. */
export function countsOfBody(body: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pool, v] of Object.entries(body)) out[pool] = countOf(pool, v);
  if (Object.keys(out).length === 0) throw new NotFound("no pool named in the request");
  return out;
}

/**
 * All or nothing through the native checkout, owned by the caller, with the pool's lifetime. Hosts
 * are keyed by the name asked for (pool or alias): one string for one VM, a list for several.
 */
export function vmpoolerCheckout(core: Core, counts: Record<string, number>, caller: Caller | null): Ok {
  const { vms } = checkout(core, counts, { owner: caller?.name ?? null });
  const hosts = new Map<string, string[]>();
  for (const vm of vms) hosts.set(vm.requested, [...(hosts.get(vm.requested) ?? []), vm.name]);
  const out: Record<string, unknown> = {};
  for (const [asked, names] of hosts) out[asked] = { hostname: names.length === 1 ? names[0] : names };
  return { ok: true, ...out, ...vmpoolerDomain(core) };
}

/** vmpooler's VM states, from pool membership: pending, ready, running (checked out), completed. */
const STATES = { pending: "pending", ready: "ready", checked_out: "running", draining: "completed" } as const;

export interface VmpoolerVm {
  template: string;
  lifetime: number;
  running: number;
  state: string;
  tags: Record<string, string>;
  domain?: string;
  disk?: string[];
  snapshots?: string[];
}

/** A VM as GET /vm/<hostname> shows it; any berth VM, a checked-out one with its lease. */
export async function vmpoolerVm(
  core: Core,
  caller: Caller | null,
  name: string,
  at = Date.now(),
): Promise<Ok> {
  const vm = await getVm(core, caller, name);
  const member = getMember(core.db, name);
  const lease = leaseOf(core, name);
  const since = lease?.checked_out_at ?? vm.started_at ?? vm.created_at;
  const state = member
    ? STATES[member.status]
    : vm.state === "running" || vm.state === "blocked"
      ? "running"
      : vm.status;
  const disk = vm.disks
    .filter((d) => d.device === "disk" && d.name !== "root")
    .map((d) => `+${Math.round(d.size / 1024 ** 3)}gb`);
  const owner = ownerOfVm(core.db, name);
  const snapshots =
    sightOf(core, caller, owner) === "full" ? listSnapshots(core, caller, name).map((s) => s.name) : [];
  const view: VmpoolerVm = {
    template: member?.pool ?? vm.profile ?? vm.image ?? "",
    lifetime: lease?.lifetime_hours ?? 0,
    running: Math.round(((at - Date.parse(since)) / HOUR_MS) * 100) / 100,
    state,
    tags: vm.tags,
    ...vmpoolerDomain(core),
    ...(disk.length > 0 ? { disk } : {}),
    ...(snapshots.length > 0 ? { snapshots } : {}),
  };
  return { ok: true, [name]: view };
}

export interface VmpoolerChange {
  lifetime?: number | string;
  tags?: Record<string, string>;
}

/** PUT /vm/<hostname>: lifetime (whole hours, within the pool's limit) and tags merged into the VM's. */
export async function vmpoolerUpdate(
  core: Core,
  caller: Caller | null,
  name: string,
  change: VmpoolerChange,
): Promise<{ ok: true }> {
  if (change.lifetime === undefined && change.tags === undefined) {
    throw new BadRequest("give lifetime (hours) or tags");
  }
  const vm = await getVm(core, caller, name);
  const lifetime = change.lifetime === undefined ? undefined : countOf("lifetime", change.lifetime);
  await updateVmSettings(core, caller, name, {
    ...(lifetime !== undefined ? { lifetime } : {}),
    ...(change.tags !== undefined ? { tags: { ...vm.tags, ...change.tags } } : {}),
  });
  return { ok: true };
}

/** DELETE /vm/<hostname>: the deletion is scheduled (an operation); vmpooler answered at once too. */
export function vmpoolerDelete(core: Core, caller: Caller | null, name: string): { ok: true } {
  deleteVmOp(core, caller, name);
  return { ok: true };
}

/** POST /vm/<hostname>/disk/<size>: a blank disk of `size` GB, added by an operation. */
export function vmpoolerAddDisk(core: Core, caller: Caller | null, name: string, size: string): Ok {
  const gb = /^[0-9]{1,5}$/.test(size) ? Number(size) : 0;
  if (gb < 1 || gb > MAX_DISK_GB) throw new BadRequest(`disk size ${size} must be 1 to ${MAX_DISK_GB} (GB)`);
  addDisk(core, caller, name, { size_gb: gb });
  return { ok: true, [name]: { disk: `+${gb}gb` } };
}

/** 32 random lowercase letters and digits, a letter first (a DNS label, like vmpooler's names). */
function snapshotName(): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(32);
  return [...bytes].map((b, i) => chars[b % (i === 0 ? 26 : 36)]).join("");
}

/** POST /vm/<hostname>/snapshot: the snapshot's name is answered at once; it is taken by an operation. */
export async function vmpoolerSnapshot(core: Core, caller: Caller | null, name: string): Promise<Ok> {
  const snapshot = snapshotName();
  await createSnapshot(core, caller, name, { name: snapshot });
  return { ok: true, [name]: { snapshot } };
}

export async function vmpoolerRevert(
  core: Core,
  caller: Caller | null,
  name: string,
  snapshot: string,
): Promise<{ ok: true }> {
  await revertSnapshot(core, caller, name, snapshot);
  return { ok: true };
}

/** vmpooler's time format: "2015-04-28 19:17:47 +0000" (berth answers in UTC). */
export function vmpoolerTime(iso: string | null): string | null {
  return iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
}

/** GET /token: the caller's tokens by id (berth keeps only hashes, so the tokens themselves are never shown). */
export function vmpoolerTokens(core: Core, caller: Caller | null): Ok {
  const out: Record<string, { created: string | null }> = {};
  for (const t of listTokens(core, caller)) out[t.id] = { created: vmpoolerTime(t.created_at) };
  return { ok: true, ...out };
}

export function vmpoolerIssueToken(core: Core, caller: Caller | null): { ok: true; token: string } {
  return { ok: true, token: issueToken(core, caller).token };
}

/** The token's row when `token` is a live token's secret; knowing it is the credential, as in vmpooler. */
function liveToken(core: Core, token: string) {
  const row = token.length <= 256 ? tokenByHash(core.db, hashToken(token)) : null;
  if (!row || (row.expires_at !== null && row.expires_at <= now())) {
    throw new NotFound("no such token");
  }
  return row;
}

/** GET /token/<token>: its user, times and the user's checked-out VMs. */
export function vmpoolerTokenInfo(core: Core, token: string): Ok {
  if (!core.config.auth.enabled) throw new AuthDisabled();
  const row = liveToken(core, token);
  const running = listMembers(core.db)
    .filter((m) => m.status === "checked_out" && m.owner === row.user)
    .map((m) => m.vm_name);
  return {
    ok: true,
    [token]: {
      user: row.user,
      created: vmpoolerTime(row.created_at),
      last: vmpoolerTime(row.last_used_at),
      vms: { running },
    },
  };
}

/** DELETE /token/<token>: by the token itself or its id; only the caller's own (an admin: any). */
export function vmpoolerRevokeToken(core: Core, caller: Caller | null, token: string): { ok: true } {
  const byId = tokenById(core.db, token);
  let id = byId?.id;
  if (!byId) {
    const row = token.length <= 256 ? tokenByHash(core.db, hashToken(token)) : null;
    id = row?.id ?? token;
  }
  revokeToken(core, caller, id as string);
  return { ok: true };
}

/** vmpooler's "all is well" message, which its clients and dashboards show. */
const ALL_WELL = "Battle station fully armed and operational.";

/** GET /status: capacity, today's clones, the queue and a verdict naming empty pools. */
export function vmpoolerStatus(core: Core, at = Date.now()) {
  const s = poolStatus(core, at);
  const { pending, cloning, booting, ready, running } = s.queue;
  const completed = s.pools.reduce((a, p) => a + p.draining, 0);
  return {
    capacity: s.capacity,
    clone: {
      duration: { average: s.clone.average, min: s.clone.min, max: s.clone.max },
      count: { total: s.clone.count },
    },
    queue: { pending, cloning, booting, ready, running, completed, total: s.queue.total + completed },
    status: s.ok ? { ok: true, message: ALL_WELL } : { ok: false, message: s.message, empty: s.empty },
  };
}

/** GET /summary: berth's summary already has vmpooler's shape (from and to inclusive, default today). */
export function vmpoolerSummary(core: Core, range: { from?: string; to?: string }, at = Date.now()): Summary {
  return summary(core, range, at);
}
