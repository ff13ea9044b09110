// GET /v1/vms as a pre-encoded JSON body: rows from SQLite, states from the state map, each VM's JSON from its cache.

import { listVmRows, type VmListFilter } from "../../db/vm-list.ts";
import { actsAsAdmin, type Caller, sightOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";
import { encodedVms, pruneEncoded, publicPieces } from "./list-cache.ts";
import { loadedStates } from "./state-map.ts";

export interface VmListQuery {
  /** berth's status (creating, running, stopped, paused, error, gone). */
  state?: string;
  name?: string;
  /** "key" or "key=value": VMs carrying that tag (exact match). */
  tag?: string;
  project?: string;
  pool?: string;
  owner?: string;
  /** 0: the VMs' URLs (/v1/vms/<name>); 1 (the default): whole objects. */
  recursion?: number;
  /** At most this many VMs; `next` names the last one when more follow. */
  limit?: number;
  /** Only VMs whose name sorts after this one (the `next` of the page before; it need not exist any more). */
  after?: string;
}

export interface VmListPage {
  /** The JSON array, encoded. */
  body: string;
  /** The name to pass as `after` for the next page; null on the last page. */
  next: string | null;
}

function filterOf(q: VmListQuery): VmListFilter {
  const f: VmListFilter = {
    status: q.state,
    name: q.name,
    project: q.project,
    pool: q.pool,
    owner: q.owner,
    after: q.after,
  };
  if (q.tag !== undefined) {
    const eq = q.tag.indexOf("=");
    f.tagKey = eq < 0 ? q.tag : q.tag.slice(0, eq);
    if (eq >= 0) f.tagValue = q.tag.slice(eq + 1);
  }
  return f;
}

const unfiltered = (q: VmListQuery) =>
  q.state === undefined &&
  q.name === undefined &&
  q.tag === undefined &&
  q.project === undefined &&
  q.pool === undefined &&
  q.owner === undefined &&
  q.after === undefined;

/**
 * The VMs the caller sees (as listVmViews decides: admins all, users their own and, with public_reads,
 * the others' public view), filtered, one page. An owner filter from a non-admin matches only VMs they
 * see whole, so it never tells who owns a VM shown in public view.
 */
export async function listVmsEncoded(
  core: Core,
  caller: Caller | null,
  q: VmListQuery = {},
): Promise<VmListPage> {
  if (q.project !== undefined) checkName("project", q.project);
  const admin = actsAsAdmin(core, caller);
  const rows = listVmRows(core.db, filterOf(q), !admin);
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  const page: { row: (typeof rows)[number]; full: boolean }[] = [];
  let next: string | null = null;
  for (const row of rows) {
    const sight = admin ? "full" : sightOf(core, caller, row.owner, row.project);
    if (sight === "none" || (q.owner !== undefined && sight !== "full")) continue;
    if (page.length === limit) {
      next = page[page.length - 1]?.row.name ?? null;
      break;
    }
    page.push({ row, full: sight === "full" });
  }
  if (q.recursion === 0) {
    return { body: JSON.stringify(page.map((p) => `/v1/vms/${encodeURIComponent(p.row.name)}`)), next };
  }
  if (admin && unfiltered(q)) pruneEncoded(core.db, rows);
  const states = await loadedStates(core.hv);
  const encoded = encodedVms(
    core,
    page.map((p) => p.row),
  );
  const stateJson = new Map<string, string>();
  const parts: string[] = [];
  for (let i = 0; i < page.length; i++) {
    const e = encoded[i];
    const p = page[i];
    if (!e || !p) continue;
    const state = states ? (states.get(p.row.name) ?? "absent") : "unknown";
    let sj = stateJson.get(state);
    if (sj === undefined) {
      sj = JSON.stringify(state);
      stateJson.set(state, sj);
    }
    const pieces = p.full ? e : publicPieces(e);
    parts.push(pieces.head + sj + pieces.tail);
  }
  return { body: `[${parts.join(",")}]`, next };
}
