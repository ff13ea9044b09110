// The fleet at the HTTP edge: checks requests other hosts forward here, and forwards actions on another host's VMs there.
import { Elysia } from "elysia";
import { frontOn, type ListenerPlan } from "../config/fronts.ts";
import type { Caller } from "../core/auth/caller.ts";
import type { Core } from "../core/context.ts";
import { HostUnreachable } from "../core/fleet/errors.ts";
import { forwardTo } from "../core/fleet/forward.ts";
import { hostHolding, operationHere, placementOf } from "../core/fleet/locate.ts";
import { liveHosts } from "../core/fleet/members.ts";
import { claimHolders } from "../core/fleet/names.ts";
import { UNREACHABLE, unreachableVm, unreachableVms } from "../core/fleet/unreachable.ts";
import { VM_STATUSES } from "../core/vms/index.ts";
import { listVmsEncoded, type VmListQuery } from "../core/vms/list.ts";
import { AppError, BadRequest, Conflict, NotFound } from "../errors.ts";
import { log } from "../log.ts";
import { callerOf } from "./auth.ts";
import { toErrorResponse } from "./errors.ts";
import { answer, bodyOf, forwardedOf } from "./fleet-arrival.ts";
import { CONSOLE_PATH, markRemoteConsole } from "./fleet-console.ts";
import { frontAt } from "./fronts/registry.ts";
import { kahuFleetForward } from "./kahu/fleet-forward.ts";
import { LIST_LIMIT_MAX, nextLink } from "./native/vm-list-query.ts";
import { PVC_FLEET_BASE, pvcFleetForward } from "./pvc/fleet-forward.ts";

/** On a fleet-wide list: the hosts whose VMs it could not include. */
const UNREACHABLE_HEADER = "x-berth-fleet-unreachable";
const VM_PATH = /^\/v1\/vms(?:\/([^/]+)(?:\/.*)?)?$/;
const OPERATION_PATH = /^\/v1\/operations\/([^/]+)(?:\/wait)?$/;
const LOCATION = /^\/v1\/operations\/([^/]+)$/;
/** Operations other hosts started for requests this host forwarded: kept this many, oldest forgotten first. */
const REMEMBERED_OPERATIONS = 10_000;

/** Which host runs the operations this host's forwarded requests started, so their Location works here too. */
class OperationHosts {
  readonly #hosts = new Map<string, string>();

  note(answer: Response, host: string): Response {
    const id = LOCATION.exec(answer.headers.get("location") ?? "")?.[1];
    if (id === undefined) return answer;
    this.#hosts.set(id, host);
    if (this.#hosts.size > REMEMBERED_OPERATIONS)
      this.#hosts.delete(this.#hosts.keys().next().value as string);
    return answer;
  }

  hostOf(id: string): string | undefined {
    return this.#hosts.get(id);
  }
}

/** Filters every host applies to its own VMs; the list level and the page are the fleet-wide list's. */
const FILTER_KEYS = new Set(["state", "name", "tag", "project", "pool", "owner"]);
const STATES = new Set<string>([...VM_STATUSES, UNREACHABLE]);
const WHOLE_NUMBER = /^[0-9]{1,4}$/;

/** A fleet list's query, or undefined for one the route itself refuses (400) or answers alone. */
function fleetListQuery(
  params: URLSearchParams,
): { filters: URLSearchParams; recursion: number; limit?: number; after?: string } | undefined {
  const filters = new URLSearchParams();
  let recursion = 1;
  let limit: number | undefined;
  let after: string | undefined;
  for (const [k, v] of params) {
    if (FILTER_KEYS.has(k)) {
      if (k === "state" && !STATES.has(v)) return;
      filters.append(k, v);
    } else if (k === "recursion" && (v === "0" || v === "1")) recursion = Number(v);
    else if (k === "limit" && WHOLE_NUMBER.test(v) && Number(v) >= 1 && Number(v) <= LIST_LIMIT_MAX)
      limit = Number(v);
    else if (k === "after") after = v;
    else return;
  }
  return {
    filters,
    recursion,
    ...(limit !== undefined ? { limit } : {}),
    ...(after !== undefined ? { after } : {}),
  };
}

/**
 * GET /v1/vms on a fleet: this host's VMs and every other live host's, each with its `host`; filtered by
 * every host, then sorted by name, paged and shaped (recursion) here, as one host's list is.
 */
async function fleetList(core: Core, request: Request, caller: Caller | null): Promise<Response | undefined> {
  const fleet = core.fleet;
  if (!fleet) return;
  const url = new URL(request.url);
  const q = fleetListQuery(url.searchParams);
  if (!q) return;
  const filters = Object.fromEntries(q.filters) as VmListQuery;
  // Only VMs of dead hosts are unreachable: no live host has one to add.
  const onlyDead = filters.state === UNREACHABLE;
  const ownPage = onlyDead ? { body: "[]" } : await listVmsEncoded(core, caller, filters);
  const own = (JSON.parse(ownPage.body) as Record<string, unknown>[]).map((vm) => ({
    ...vm,
    host: fleet.name,
  }));
  const live = await liveHosts(fleet);
  const others = onlyDead ? [] : [...live.values()].filter((h) => h.name !== fleet.name);
  // A dead host's VMs are listed from their last published records, as unreachable.
  const dead = await unreachableVms(core, fleet, caller, filters, new Set(live.keys()));
  // Hosts that hold VMs but are not live (or do not answer) are named, so a missing VM is never silent.
  const unreachable = new Set(
    [...(await claimHolders(fleet))].filter((h) => h !== fleet.name && !live.has(h)),
  );
  const filtered = new URL(url.pathname, url);
  filtered.search = q.filters.toString();
  const asked = new Request(filtered.toString(), { method: "GET", headers: request.headers });
  const theirs = await Promise.all(
    others.map(async (h) => {
      try {
        const r = await forwardTo(fleet, h, asked, new Uint8Array(), caller);
        if (!r.ok) throw new Error(`status ${r.status}`);
        return ((await r.json()) as Record<string, unknown>[]).map((vm) => ({ ...vm, host: h.name }));
      } catch (e) {
        log.warn("fleet list: a host did not answer", { host: h.name, error: String(e) });
        unreachable.add(h.name);
        return [];
      }
    }),
  );
  const name = (vm: Record<string, unknown>) => String(vm.name);
  let all = [...own, ...theirs.flat(), ...(dead as Record<string, unknown>[])].sort((a, b) =>
    name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0,
  );
  if (q.after !== undefined) all = all.filter((vm) => name(vm) > (q.after as string));
  const headers: Record<string, string> = {};
  if (q.limit !== undefined && all.length > q.limit) {
    all = all.slice(0, q.limit);
    headers.link = nextLink(request.url, name(all[all.length - 1] as Record<string, unknown>));
  }
  if (unreachable.size > 0) headers[UNREACHABLE_HEADER] = [...unreachable].sort().join(",");
  const body = q.recursion === 0 ? all.map((vm) => `/v1/vms/${encodeURIComponent(name(vm))}`) : all;
  return Response.json(body, { headers });
}

/** An AppError as the answer of the front `path` is under (these hooks run before the one mapping). */
function frontAnswer(listener: ListenerPlan, path: string, e: unknown): Response {
  if (!(e instanceof AppError)) throw e;
  const { status, body } = toErrorResponse(e.errorCode, e);
  const front = frontAt(listener, path);
  return Response.json(front.errorBody(body), { status: front.errorStatus?.(status, body, false) ?? status });
}

/** The host a recovery names in its body, or undefined (not JSON, no host: this host's route answers it). */
function recoveryHost(body: Uint8Array): string | undefined {
  try {
    const host = (JSON.parse(new TextDecoder().decode(body)) as { host?: unknown }).host;
    return typeof host === "string" ? host : undefined;
  } catch {
    return undefined; // not JSON: this host's route answers it with its 400
  }
}

/**
 * Mounted after the auth guard (it needs the caller): on the native front, an action on a VM another host
 * holds is forwarded there; a create goes to the host placement picks; a list covers the fleet.
 * A request that was itself forwarded is always answered here.
 */
export function fleetForward(core: Core, listener: ListenerPlan) {
  const fleet = core.fleet;
  if (!fleet) return new Elysia();
  const operations = new OperationHosts();
  const max = core.config.limits.max_body_bytes;
  return new Elysia().onRequest(async ({ request }) => {
    if (forwardedOf(request)) return;
    const path = new URL(request.url).pathname;
    const front = frontOn(listener, path);
    const other = front === "pvc" ? pvcFleetForward : front === "kahu" ? kahuFleetForward : undefined;
    if (other) {
      try {
        return await other(core, fleet, listener, request, callerOf({ request }));
      } catch (e) {
        return frontAnswer(listener, path, e);
      }
    }
    if (front !== "native") return;
    // PVC's routes for other hosts answer only their signed requests.
    if (path.startsWith(`${PVC_FLEET_BASE}/`)) return answer(new NotFound(`no route ${path}`));
    const m = VM_PATH.exec(path);
    const op = OPERATION_PATH.exec(path);
    if (!m && !op) return;
    try {
      const caller = callerOf({ request });
      if (op) {
        const id = decodeURIComponent(op[1] as string);
        const host = operations.hostOf(id);
        if (host === undefined || operationHere(core, id)) return;
        const to = (await liveHosts(fleet)).get(host);
        if (!to) throw new HostUnreachable(`operation ${id} runs on host ${host}, which is not reachable`);
        return await forwardTo(fleet, to, request, await bodyOf(request, max), caller);
      }
      if (!m) return;
      if (m[1] === undefined) {
        if (request.method === "GET") return await fleetList(core, request, caller);
        if (request.method !== "POST") return;
        const body = await bodyOf(request, max);
        const to = await placementOf(core, body);
        return to ? operations.note(await forwardTo(fleet, to, request, body, caller), to.name) : undefined;
      }
      const vm = decodeURIComponent(m[1]);
      if (request.method === "POST" && path === `/v1/vms/${m[1]}/recover`) {
        const body = await bodyOf(request, max);
        const target = recoveryHost(body);
        if (target === undefined || target === fleet.name) return;
        const there = (await liveHosts(fleet)).get(target);
        if (!there) throw new BadRequest(`host ${target} is not a live member of the fleet`);
        return operations.note(await forwardTo(fleet, there, request, body, caller), there.name);
      }
      const to = await hostHolding(core, vm).catch(async (e) => {
        // A read of one VM whose host is not live: its last record, as unreachable.
        if (!(e instanceof HostUnreachable) || request.method !== "GET" || path !== `/v1/vms/${m[1]}`)
          throw e;
        const view = await unreachableVm(core, caller, vm);
        if (view === undefined) throw e;
        if (view === null) throw new NotFound(`vm ${vm} does not exist`);
        return Response.json(view, { headers: { "x-berth-host": view.host } });
      });
      if (to instanceof Response) return to;
      if (!to) return;
      if (request.headers.get("upgrade")) {
        // The console route proxies it to the VM's host (a WebSocket cannot be answered from this hook).
        if (CONSOLE_PATH.test(path)) return markRemoteConsole(request, to);
        throw new Conflict(`vm ${vm} is on host ${to.name}: connect to ${to.api}`);
      }
      return operations.note(
        await forwardTo(fleet, to, request, await bodyOf(request, max), caller),
        to.name,
      );
    } catch (e) {
      return answer(e);
    }
  });
}
