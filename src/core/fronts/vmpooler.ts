// vmpooler's API model over core: pool names, checkout, disks, snapshots, tokens.
import { randomBytes } from "node:crypto";
import { listMembers, listPoolRows } from "../../db/pools.ts";
import { tokenByHash, tokenById } from "../../db/tokens.ts";
import { BadRequest, NotFound } from "../../errors.ts";
import { AuthDisabled, type Caller, hashToken, issueToken, listTokens, revokeToken } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkoutAtAnyHost } from "../fleet/pools-entry.ts";
import { toPoolRecord } from "../pools/records.ts";
import { now } from "../time.ts";
import { addDisk } from "../vms/index.ts";
import { createSnapshot, revertSnapshot } from "../vms/snapshots.ts";
import { type Ok, vmpoolerDomain, vmpoolerHost } from "./vmpooler-vm.ts";

/** vmpooler counted in whole gigabytes; berth's own disk limit. */
const MAX_DISK_GB = 65_536;

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
export async function vmpoolerCheckout(
  core: Core,
  counts: Record<string, number>,
  caller: Caller | null,
): Promise<Ok> {
  // vmpooler clients use the host at once: a paused or saved pool's VM is woken before the answer.
  // Fleet pools go through the fleet's checkout (any host's VMs, all or nothing), local ones as before.
  const { vms } = await checkoutAtAnyHost(core, caller, counts, {});
  const hosts = new Map<string, string[]>();
  for (const vm of vms) hosts.set(vm.requested, [...(hosts.get(vm.requested) ?? []), vm.name]);
  const out: Record<string, unknown> = {};
  for (const [asked, names] of hosts) out[asked] = { hostname: names.length === 1 ? names[0] : names };
  return { ok: true, ...out, ...vmpoolerDomain(core) };
}

/** POST /vm/<hostname>/disk/<size>: a blank disk of `size` GB, added by an operation. */
export async function vmpoolerAddDisk(
  core: Core,
  caller: Caller | null,
  host: string,
  size: string,
): Promise<Ok> {
  const name = vmpoolerHost(core, host);
  const gb = /^[0-9]{1,5}$/.test(size) ? Number(size) : 0;
  if (gb < 1 || gb > MAX_DISK_GB) throw new BadRequest(`disk size ${size} must be 1 to ${MAX_DISK_GB} (GB)`);
  await addDisk(core, caller, name, { size_gb: gb });
  return { ok: true, [name]: { disk: `+${gb}gb` } };
}

/** 32 random lowercase letters and digits, a letter first (a DNS label, like vmpooler's names). */
function snapshotName(): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(32);
  return [...bytes].map((b, i) => chars[b % (i === 0 ? 26 : 36)]).join("");
}

/** POST /vm/<hostname>/snapshot: the snapshot's name is answered at once; it is taken by an operation. */
export async function vmpoolerSnapshot(core: Core, caller: Caller | null, host: string): Promise<Ok> {
  const name = vmpoolerHost(core, host);
  const snapshot = snapshotName();
  await createSnapshot(core, caller, name, { name: snapshot });
  return { ok: true, [name]: { snapshot } };
}

export async function vmpoolerRevert(
  core: Core,
  caller: Caller | null,
  host: string,
  snapshot: string,
): Promise<{ ok: true }> {
  await revertSnapshot(core, caller, vmpoolerHost(core, host), snapshot);
  return { ok: true };
}

/** vmpooler's time format: "2015-04-28 19:17:47 +0000" (berth answers in UTC). */
export function vmpoolerTime(iso: string | null): string | null {
  return iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000`;
}

/**
 * GET /token: the caller's tokens by id with created and last use ("never", as vmpooler). berth keeps
 * only hashes, so an id is no token: GET and DELETE /token/<id> accept it with its owner's credentials.
 */
export function vmpoolerTokens(core: Core, caller: Caller | null): Ok {
  const out: Record<string, { created: string | null; last: string }> = {};
  for (const t of listTokens(core, caller)) {
    out[t.id] = { created: vmpoolerTime(t.created_at), last: vmpoolerTime(t.last_used_at) ?? "never" };
  }
  return { ok: true, ...out };
}

export function vmpoolerIssueToken(core: Core, caller: Caller | null): { ok: true; token: string } {
  return { ok: true, token: issueToken(core, caller).token };
}

const live = (row: { expires_at: string | null } | null) =>
  row !== null && (row.expires_at === null || row.expires_at > now());

/**
 * The token's row: `token` is a live token's secret (knowing it is the credential, as in vmpooler), or
 * the id of one of the caller's own live tokens (the caller authenticated with the owner's credentials).
 */
function tokenRow(core: Core, caller: Caller | null, token: string) {
  const bySecret = token.length <= 256 ? tokenByHash(core.db, hashToken(token)) : null;
  if (bySecret && live(bySecret)) return bySecret;
  const byId = caller ? tokenById(core.db, token) : null;
  if (byId && live(byId) && byId.user === caller?.name) return byId;
  throw new NotFound("no such token");
}

/** GET /token/<token or own id>: its user, times and the user's checked-out VMs. */
export function vmpoolerTokenInfo(core: Core, caller: Caller | null, token: string): Ok {
  if (!core.config.auth.enabled) throw new AuthDisabled();
  const row = tokenRow(core, caller, token);
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
