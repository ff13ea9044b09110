// PVC's requests on a fleet: a VM another host holds, a define placed on another host and another node's flush go to that host.
import { Elysia } from "elysia";
import { type ListenerPlan, pathUnderFront } from "../../config/fronts.ts";
import type { Caller } from "../../core/auth/caller.ts";
import type { Core } from "../../core/context.ts";
import type { Fleet } from "../../core/fleet/fleet.ts";
import { forwardTo } from "../../core/fleet/forward.ts";
import { hostHolding } from "../../core/fleet/locate.ts";
import { type HostRecord, liveHosts } from "../../core/fleet/members.ts";
import { pvcPlacement } from "../../core/fronts/pvc-placement.ts";
import { pvcVmList } from "../../core/fronts/pvc-vms.ts";
import { AppError } from "../../errors.ts";
import { log } from "../../log.ts";
import { bodyOf } from "../fleet-arrival.ts";
import { VmNotFound } from "./errors.ts";
import { pvcNodeRoutes } from "./nodes.ts";
import { pvcValues } from "./values.ts";
import { pvcVmRoutes } from "./vms.ts";

/** Where a host serves the PVC requests other hosts forward to it (on its fleet API, signed requests only). */
export const PVC_FLEET_BASE = "/v1/fleet/fronts/pvc";
const VM_PATH = /^\/api\/v1\/vm\/([^/]+)(?:\/([a-z]+))?\/?$/;
const VM_LIST = /^\/api\/v1\/vm\/?$/;
const NODE_ACTION = /^\/api\/v1\/node\/([^/]+)\/(flush|unflush|ready)\/?$/;
const FORMS = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** PVC's VM and node routes under PVC_FLEET_BASE, mounted on a fleet host's native API. */
export function pvcFleetRoutes(core: Core) {
  if (!core.fleet) return new Elysia();
  // Fleet-only: not in this listener's OpenAPI document (PVC's own listener documents these routes).
  return new Elysia({ prefix: `${PVC_FLEET_BASE}/api/v1` }).guard({ detail: { hide: true } }, (app) =>
    app.use(pvcVmRoutes(core)).use(pvcNodeRoutes(core)),
  );
}

/** The request's PVC path under its base on this listener (`/api/v1/...`), or null. */
function pvcPath(listener: ListenerPlan, path: string): string | null {
  return pathUnderFront(listener, "pvc", "/api/v1/", path);
}

/** The body without PVC's `token` value: a caller's token never leaves its host. */
export async function withoutToken(
  request: Request,
  body: Uint8Array,
): Promise<{ body: Uint8Array; type?: string }> {
  const media = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (body.length === 0 || !FORMS.includes(media)) return { body };
  const form = await new Request("http://form/", {
    method: "POST",
    headers: { "content-type": request.headers.get("content-type") ?? media },
    body,
  }).formData();
  if (!form.has("token")) return { body };
  form.delete("token");
  if (media === FORMS[0]) {
    const encoded = new URLSearchParams();
    for (const [k, v] of form) encoded.append(k, typeof v === "string" ? v : await v.text());
    return { body: new TextEncoder().encode(encoded.toString()), type: media };
  }
  // Re-encoded by Bun (a new boundary): the form as read, without the token.
  const rebuilt = new Response(form as unknown as URLSearchParams);
  // Read before the body: Bun drops the generated content-type once the body is consumed.
  const type = rebuilt.headers.get("content-type") ?? media;
  return { body: new Uint8Array(await rebuilt.arrayBuffer()), type };
}

/** Forwards to `host`'s PVC_FLEET_BASE; its native error answer becomes an AppError this front shapes as PVC's. */
async function forwardPvc(
  fleet: Fleet,
  host: HostRecord,
  request: Request,
  rel: string,
  caller: Caller | null,
  max: number,
): Promise<Response> {
  const url = new URL(request.url);
  url.searchParams.delete("token");
  const { body, type } = await withoutToken(request, await bodyOf(request, max));
  const headers = new Headers(request.headers);
  if (type) headers.set("content-type", type);
  const out = new Request(`http://fleet${PVC_FLEET_BASE}${rel}${url.search}`, {
    method: request.method,
    headers,
  });
  const answer = await forwardTo(fleet, host, out, body, caller);
  if (answer.ok) return answer;
  const text = await answer.text();
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    error = undefined; // not berth's error shape: passed on as text below
  }
  throw new AppError(answer.status, error?.code ?? "fleet_step_failed", error?.message ?? text);
}

/**
 * GET /vm on a fleet: the VMs of every live host, each with its `node`, sorted by name (404 "VM not found."
 * when no host has one that matches); `node=<host>` is that host's own list. Hosts that do not answer are left out.
 */
async function pvcFleetList(
  core: Core,
  fleet: Fleet,
  request: Request,
  rel: string,
  caller: Caller | null,
): Promise<Response | undefined> {
  const max = core.config.limits.max_body_bytes;
  let q: { limit?: string; node?: string; state?: string };
  {
    await using values = await pvcValues(core, request.clone() as Request);
    q = { limit: values.get("limit"), node: values.get("node"), state: values.get("state") };
  }
  const hosts = await liveHosts(fleet);
  if (q.node !== undefined && q.node !== "") {
    if (q.node === fleet.name) return;
    const host = hosts.get(q.node);
    if (!host) throw new AppError(400, "invalid_request", `Specified node "${q.node}" is invalid.`);
    return await forwardPvc(fleet, host, request, rel, caller, max);
  }
  const orEmpty = async (list: () => Promise<Record<string, unknown>[]>) => {
    try {
      return await list();
    } catch (e) {
      if (e instanceof AppError && e.errorCode === "vm_not_found") return [];
      throw e;
    }
  };
  const own = await orEmpty(() => pvcVmList(core, caller, q));
  const others = [...hosts.values()].filter((h) => h.name !== fleet.name);
  const theirs = await Promise.all(
    others.map((h) =>
      orEmpty(async () => {
        try {
          const r = await forwardPvc(fleet, h, request, rel, caller, max);
          return (await r.json()) as Record<string, unknown>[];
        } catch (e) {
          if (e instanceof AppError && e.errorCode === "vm_not_found") throw e;
          log.warn("pvc vm list: a host did not answer", { host: h.name, error: String(e) });
          return [];
        }
      }),
    ),
  );
  const name = (v: Record<string, unknown>) => String(v.name);
  const all = [...own, ...theirs.flat()].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  if (all.length === 0) throw new VmNotFound();
  return Response.json(all);
}

/**
 * A PVC request this host does not answer itself, forwarded (signed, as the caller) to the host that does;
 * undefined when this host answers it. Placement and ownership are core's (placeVm, the name claims).
 */
export async function pvcFleetForward(
  core: Core,
  fleet: Fleet,
  listener: ListenerPlan,
  request: Request,
  caller: Caller | null,
): Promise<Response | undefined> {
  const rel = pvcPath(listener, new URL(request.url).pathname);
  if (rel === null) return;
  const max = core.config.limits.max_body_bytes;
  const node = NODE_ACTION.exec(rel);
  if (node && request.method === "POST") {
    const name = decodeURIComponent(node[1] as string);
    if (name === fleet.name) return;
    const host = (await liveHosts(fleet)).get(name);
    // Not a live host: this host's route answers PVC's "No node named".
    return host ? await forwardPvc(fleet, host, request, rel, caller, max) : undefined;
  }
  if (VM_LIST.test(rel) && request.method === "GET")
    return await pvcFleetList(core, fleet, request, rel, caller);
  const vm = VM_PATH.exec(rel);
  if (!vm) return;
  if (vm[2] === "define") {
    if (request.method !== "POST") return;
    let to: HostRecord | null;
    {
      await using values = await pvcValues(core, request.clone() as Request);
      to = await pvcPlacement(core, values.get("node"), values.get("selector"));
    }
    return to ? await forwardPvc(fleet, to, request, rel, caller, max) : undefined;
  }
  const holder = await hostHolding(core, decodeURIComponent(vm[1] as string));
  return holder ? await forwardPvc(fleet, holder, request, rel, caller, max) : undefined;
}
