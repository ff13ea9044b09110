// The fleet at the HTTP edge: checks requests other hosts forward here, and forwards actions on another host's VMs there.
import { Elysia } from "elysia";
import { frontOn, type ListenerPlan } from "../config/fronts.ts";
import type { Caller } from "../core/auth/caller.ts";
import type { Core } from "../core/context.ts";
import { FleetUnavailable, HostUnreachable } from "../core/fleet/errors.ts";
import { forwardTo } from "../core/fleet/forward.ts";
import { type HostRecord, liveHosts } from "../core/fleet/members.ts";
import { claimOf } from "../core/fleet/names.ts";
import { placeVm, SELECTORS, type Selector } from "../core/fleet/placement.ts";
import { listVmViews, type VmQuery } from "../core/vms/index.ts";
import { vmByName } from "../db/vms.ts";
import { Conflict } from "../errors.ts";
import { log } from "../log.ts";
import { callerOf } from "./auth.ts";
import { answer, bodyOf, forwardedOf } from "./fleet-arrival.ts";

const VM_PATH = /^\/v1\/vms(?:\/([^/]+)(?:\/.*)?)?$/;
const LIST_KEYS = new Set(["state", "name", "tag", "project"]);
const STATES = new Set(["creating", "running", "stopped", "paused", "error", "gone"]);

/** The host a VM lives on when that is not this one, or null (then this host answers, 404 if it has none). */
async function elsewhere(core: Core, vm: string): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet || vmByName(core.db, vm) !== null) return null;
  const claim = await claimOf(fleet, vm);
  if (!claim || claim.host === fleet.name) return null;
  const host = (await liveHosts(fleet)).get(claim.host);
  if (!host) throw new HostUnreachable(`vm ${vm} is on host ${claim.host}, which is not reachable`);
  return host;
}

/** The host a create goes to by its `host`/`selector` fields; null when it is this one. */
async function placement(core: Core, body: Uint8Array): Promise<HostRecord | null> {
  const fleet = core.fleet;
  if (!fleet) return null;
  let req: { host?: unknown; selector?: unknown; xml?: unknown };
  try {
    req = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null; // not JSON: this host's route answers it with its 400
  }
  if (typeof req !== "object" || req === null || "xml" in req) return null;
  const host = typeof req.host === "string" ? req.host : undefined;
  const selector = SELECTORS.includes(req.selector as Selector) ? (req.selector as Selector) : undefined;
  const hosts = await liveHosts(fleet).catch((e) => {
    throw new FleetUnavailable("cannot read the fleet's hosts", { cause: e });
  });
  const chosen = placeVm(hosts, { host, selector });
  return chosen === fleet.name ? null : (hosts.get(chosen) ?? null);
}

/** GET /v1/vms on a fleet: this host's VMs and every other live host's, each with its `host`. */
async function fleetList(core: Core, request: Request, caller: Caller | null): Promise<Response | undefined> {
  const fleet = core.fleet;
  if (!fleet) return;
  const params = new URL(request.url).searchParams;
  const q: VmQuery = {};
  for (const [k, v] of params) {
    // Anything this shortcut does not know is the route's to refuse (400).
    if (!LIST_KEYS.has(k) || (k === "state" && !STATES.has(v))) return;
    (q as Record<string, string>)[k] = v;
  }
  const own = (await listVmViews(core, caller, q)).map((vm) => ({ ...vm, host: fleet.name }));
  const others = [...(await liveHosts(fleet)).values()].filter((h) => h.name !== fleet.name);
  const theirs = await Promise.all(
    others.map(async (h) => {
      try {
        const r = await forwardTo(fleet, h, request, new Uint8Array(), caller);
        if (!r.ok) throw new Error(`status ${r.status}`);
        return ((await r.json()) as Record<string, unknown>[]).map((vm) => ({ ...vm, host: h.name }));
      } catch (e) {
        log.warn("fleet list: a host did not answer", { host: h.name, error: String(e) });
        return [];
      }
    }),
  );
  return Response.json([...own, ...theirs.flat()]);
}

/**
 * Mounted after the auth guard (it needs the caller): on the native front, an action on a VM another host
 * holds is forwarded there; a create goes to the host placement picks; a list covers the fleet.
 * A request that was itself forwarded is always answered here.
 */
export function fleetForward(core: Core, listener: ListenerPlan) {
  const fleet = core.fleet;
  if (!fleet) return new Elysia();
  return new Elysia().onRequest(async ({ request }) => {
    if (forwardedOf(request)) return;
    const path = new URL(request.url).pathname;
    const m = VM_PATH.exec(path);
    if (!m || frontOn(listener, path) !== "native") return;
    try {
      const caller = callerOf({ request });
      if (m[1] === undefined) {
        if (request.method === "GET") return await fleetList(core, request, caller);
        if (request.method !== "POST") return;
        const body = await bodyOf(request, core.config.limits.max_body_bytes);
        const to = await placement(core, body);
        return to ? await forwardTo(fleet, to, request, body, caller) : undefined;
      }
      const vm = decodeURIComponent(m[1]);
      const to = await elsewhere(core, vm);
      if (!to) return;
      if (request.headers.get("upgrade"))
        throw new Conflict(`vm ${vm} is on host ${to.name}: connect to ${to.api}`);
      return await forwardTo(
        fleet,
        to,
        request,
        await bodyOf(request, core.config.limits.max_body_bytes),
        caller,
      );
    } catch (e) {
      return answer(e);
    }
  });
}
