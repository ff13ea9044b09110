// vmpooler's /ondemandvm over berth's on-demand requests: ask, poll (202 until ready), delete.
import { BadRequest, Conflict } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { cancelRequest, createRequest, requestView } from "../pools/requests.ts";
import { countsOfBody, countsOfPath } from "./vmpooler.ts";
import { vmpoolerDomain } from "./vmpooler-vm.ts";

/** The body key that names the request instead of a pool, as in vmpooler. */
const REQUEST_ID = "request_id";
/** A request id a client chooses: what vmpooler's clients send (UUIDs, numbers), safe in a path. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

type Body = Record<string, unknown>;

/** POST /ondemandvm {"<pool>": "N", …, "request_id"?}: 201 with the request's id. */
export function vmpoolerOndemand(core: Core, body: Body, caller: Caller | null) {
  const { [REQUEST_ID]: id, ...pools } = body;
  if (id !== undefined && (typeof id !== "string" || !REQUEST_ID_PATTERN.test(id))) {
    throw new BadRequest(
      `request_id must be 1-64 letters, digits, ".", "_" or "-" (got ${JSON.stringify(id)})`,
    );
  }
  return ask(core, countsOfBody(pools), caller, id);
}

/** POST /ondemandvm/<pool>[+<pool>…]: one VM per name in the path, as vmfloaty's `get --ondemand` asks. */
export function vmpoolerOndemandPath(core: Core, path: string, caller: Caller | null) {
  return ask(core, countsOfPath(path), caller, undefined);
}

function ask(core: Core, counts: Record<string, number>, caller: Caller | null, id: string | undefined) {
  const view = createRequest(core, counts, {
    owner: caller?.name ?? null,
    ...(id !== undefined ? { id } : {}),
  });
  return { ok: true as const, request_id: view.id, ...vmpoolerDomain(core) };
}

/**
 * GET /ondemandvm/<id>: pending → 202 with ready/pending counts (strings, as vmpooler) per pool;
 * ready → 200 with the host names per pool; deleted or failed → 200, not ready, with a message.
 */
export function vmpoolerOndemandStatus(core: Core, id: string): { status: 200 | 202; body: Body } {
  const view = requestView(core, id);
  const head = { ok: true, request_id: view.id, ready: view.ready };
  if (view.status === "ready") {
    const hosts = Object.fromEntries(view.pools.map((p) => [p.pool, { hostname: p.vms }]));
    return { status: 200, body: { ...head, ...hosts, ...vmpoolerDomain(core) } };
  }
  if (view.status === "cancelled")
    return { status: 200, body: { ...head, message: "The request has been deleted" } };
  if (view.status === "failed") {
    return {
      status: 200,
      body: { ...head, message: `The request failed: ${view.error ?? "unknown reason"}` },
    };
  }
  const counts = Object.fromEntries(
    view.pools.map((p) => [p.pool, { ready: String(p.ready), pending: String(p.pending) }]),
  );
  return { status: 202, body: { ...head, ...counts } };
}

/** DELETE /ondemandvm/<id>: cancels it (its VMs are returned once handed out); again says so, still 200. */
export function vmpoolerOndemandDelete(core: Core, id: string, caller: Caller | null) {
  try {
    cancelRequest(core, id, caller);
    return { ok: true as const };
  } catch (e) {
    if (!(e instanceof Conflict) || requestView(core, id).status === "pending") throw e;
    return { ok: true as const, message: "The request has already been deleted" };
  }
}
