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
import { listVmViews, type VmQuery } from "../core/vms/index.ts";
import { Conflict } from "../errors.ts";
import { log } from "../log.ts";
import { callerOf } from "./auth.ts";
import { answer, bodyOf, forwardedOf } from "./fleet-arrival.ts";

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

const LIST_KEYS = new Set(["state", "name", "tag", "project"]);
const STATES = new Set(["creating", "running", "stopped", "paused", "error", "gone"]);

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
  const live = await liveHosts(fleet);
  const others = [...live.values()].filter((h) => h.name !== fleet.name);
  // Hosts that hold VMs but are not live (or do not answer) are named, so a missing VM is never silent.
  const unreachable = new Set(
    [...(await claimHolders(fleet))].filter((h) => h !== fleet.name && !live.has(h)),
  );
  const theirs = await Promise.all(
    others.map(async (h) => {
      try {
        const r = await forwardTo(fleet, h, request, new Uint8Array(), caller);
        if (!r.ok) throw new Error(`status ${r.status}`);
        return ((await r.json()) as Record<string, unknown>[]).map((vm) => ({ ...vm, host: h.name }));
      } catch (e) {
        log.warn("fleet list: a host did not answer", { host: h.name, error: String(e) });
        unreachable.add(h.name);
        return [];
      }
    }),
  );
  const headers =
    unreachable.size > 0 ? { [UNREACHABLE_HEADER]: [...unreachable].sort().join(",") } : undefined;
  return Response.json([...own, ...theirs.flat()], { headers });
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
    if (frontOn(listener, path) !== "native") return;
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
      const to = await hostHolding(core, vm);
      if (!to) return;
      if (request.headers.get("upgrade"))
        throw new Conflict(`vm ${vm} is on host ${to.name}: connect to ${to.api}`);
      return operations.note(
        await forwardTo(fleet, to, request, await bodyOf(request, max), caller),
        to.name,
      );
    } catch (e) {
      return answer(e);
    }
  });
}
