// PVC's network ACLs: nftables rules per network and direction in berth's own table, checked by nft before anything changes, recorded, restored at start.
import { listNetworkRows } from "../../db/networks.ts";
import { listAcls, listAllAcls, type PvcAclRow, replaceAcls } from "../../db/pvc-acls.ts";
import { AppError, BadRequest, Conflict, NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { applyRuleset, checkRuleset } from "../net/nft.ts";
import { serialize } from "../networks/serial.ts";
import { type AclChains, buildAclRuleset, ruleProblem } from "./pvc-acl-ruleset.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import { pvcNetworkOrFail } from "./pvc-networks.ts";

export type AclDirection = "in" | "out";

/** PVC's ACL object: the list's {direction, description} with the fuller object's order and rule (strings). */
export interface PvcAcl {
  direction: AclDirection;
  order: string;
  description: string;
  rule: string;
}

/** ACL changes and restores run one at a time, so each applies the whole table from one state. */
const aclKey = {};

function rulesetOf(core: Core, acls: readonly PvcAclRow[]): string {
  const nets: AclChains[] = [];
  for (const n of listNetworkRows(core.db)) {
    const mine = acls.filter((a) => a.network === n.name);
    if (mine.length === 0 || n.vni === null) continue;
    const dir = (d: AclDirection) => mine.filter((a) => a.direction === d).map((a) => a.rule);
    nets.push({ id: n.vni, bridge: n.bridge, in: dir("in"), out: dir("out") });
  }
  return buildAclRuleset(core.config.pvc.acl_table, nets);
}

/** Per core: the networks whose chains nftables holds, so deleting another network never runs nft. */
const installed = new WeakMap<Core, Set<string>>();

/** Replaces the table with what `acls` say: nft checks the whole ruleset first, then applies it atomically. */
async function install(core: Core, acls: readonly PvcAclRow[]): Promise<void> {
  const ruleset = rulesetOf(core, acls);
  await checkRuleset(ruleset);
  await applyRuleset(ruleset);
  installed.set(core, new Set(acls.map((a) => a.network)));
}

const view = (a: PvcAclRow): PvcAcl => ({
  direction: a.direction,
  order: String(a.position),
  description: a.description,
  rule: a.rule,
});

function managedNetwork(core: Core, ref: string) {
  const row = pvcNetworkOrFail(core, ref);
  if (row.kind !== "nat") {
    throw new Conflict(
      `network "${ref}" is bridged: Open vSwitch switches its traffic without nftables; ACLs need a managed network`,
    );
  }
  return row;
}

export function checkDirection(direction: string | undefined): AclDirection | undefined {
  if (direction === undefined) return undefined;
  if (direction !== "in" && direction !== "out")
    throw new BadRequest(`Direction "${direction}" is not valid.`);
  return direction;
}

/** GET /network/<net>/acl[?limit=&direction=]: by direction and order; `limit` against the description. */
export function listPvcAcls(
  core: Core,
  caller: Caller | null,
  ref: string,
  opts: { limit?: string | undefined; direction?: string | undefined; exact?: string | undefined },
): PvcAcl[] {
  // A network's firewall rules are the host's policy: admins only.
  requireAdmin(core, caller, "see network ACLs");
  const row = pvcNetworkOrFail(core, ref);
  const direction = checkDirection(opts.direction);
  const match = pvcLimitMatcher(opts.limit);
  return listAcls(core.db, row.name)
    .filter((a) => (direction === undefined || a.direction === direction) && match(a.description))
    .filter((a) => opts.exact === undefined || a.description === opts.exact)
    .map(view);
}

/** Positions 1..n per direction, in the order given. */
function renumber(rows: PvcAclRow[]): PvcAclRow[] {
  const next = { in: 0, out: 0 };
  return rows.map((r) => ({ ...r, position: ++next[r.direction] }));
}

export interface PvcAclInput {
  direction: string;
  rule: string;
  order?: string | undefined;
}

/** POST /network/<net>/acl/<description>/add: placed at `order` (1-based) in its direction's chain, else last. */
export function addPvcAcl(
  core: Core,
  caller: Caller | null,
  ref: string,
  description: string,
  input: PvcAclInput,
): Promise<string> {
  requireAdmin(core, caller, "change network ACLs");
  return serialize(aclKey, async () => {
    const net = managedNetwork(core, ref);
    const direction = checkDirection(input.direction) as AclDirection;
    const problem = ruleProblem(input.rule);
    if (problem) throw new BadRequest(`rule "${description}": ${problem}`);
    let order: number | undefined;
    if (input.order !== undefined && input.order !== "") {
      if (!/^\d{1,6}$/.test(input.order) || Number(input.order) < 1) {
        throw new BadRequest(`order "${input.order}" is not a positive integer`);
      }
      order = Number(input.order);
    }
    const mine = listAcls(core.db, net.name);
    if (mine.some((a) => a.description === description)) {
      throw new Conflict(`A rule with description "${description}" already exists!`);
    }
    const same = mine.filter((a) => a.direction === direction);
    const other = mine.filter((a) => a.direction !== direction);
    const at = order === undefined ? same.length : Math.min(order - 1, same.length);
    const added: PvcAclRow = {
      network: net.name,
      description,
      direction,
      rule: input.rule.trim(),
      position: 0,
    };
    const rows = renumber([...other, ...same.slice(0, at), added, ...same.slice(at)]);
    const all = [...listAllAcls(core.db).filter((a) => a.network !== net.name), ...rows];
    await install(core, all);
    replaceAcls(core.db, net.name, rows);
    return `Firewall rule '${description}' added successfully!`;
  });
}

/** POST /network/<net>/acl/<description>/remove */
export function removePvcAcl(
  core: Core,
  caller: Caller | null,
  ref: string,
  description: string,
): Promise<string> {
  requireAdmin(core, caller, "change network ACLs");
  return serialize(aclKey, async () => {
    const net = pvcNetworkOrFail(core, ref);
    const mine = listAcls(core.db, net.name);
    if (!mine.some((a) => a.description === description)) {
      throw new NotFound(`No firewall rule exists matching description "${description}"!`);
    }
    const rows = renumber(mine.filter((a) => a.description !== description));
    const all = [...listAllAcls(core.db).filter((a) => a.network !== net.name), ...rows];
    await install(core, all);
    replaceAcls(core.db, net.name, rows);
    return `Firewall rule '${description}' removed successfully!`;
  });
}

/** Makes nftables hold exactly the recorded ACLs (at start, and after a network and its ACL rows are gone). */
export function applyPvcAcls(core: Core): Promise<void> {
  return serialize(aclKey, () => install(core, listAllAcls(core.db)));
}

/** Whether nftables may hold chains of network `name` that its (deleted) rows no longer justify. */
const holdsChainsOf = (core: Core, name: string) => installed.get(core)?.has(name) ?? false;

/** Restores the ACLs now and again whenever a network is deleted (its rows went with it); returns the unsubscribe. */
export function startPvcAcls(core: Core): () => void {
  const restore = (why: string) =>
    applyPvcAcls(core).catch((e) =>
      log.error("could not apply PVC's network ACLs", {
        why,
        error: e instanceof AppError || e instanceof Error ? e.message : String(e),
      }),
    );
  // Without recorded ACLs there is nothing to restore: berth does not run nft at all.
  if (listAllAcls(core.db).length > 0) void restore("start");
  return core.events.subscribe((ev) => {
    const name = ev.target.slice("network/".length);
    if (ev.type === "network.deleted" && holdsChainsOf(core, name)) void restore(ev.target);
  });
}
